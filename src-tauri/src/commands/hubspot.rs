//! HubSpot connection commands (OAuth install, paste fallback, private token, disconnect).

use std::sync::Arc;

use dhs_core::{Core, HubSpotAccount, InstallStart};
use tauri::State;

use crate::error::CommandResult;

/// Saves the client id (and secret, to the keychain), binds the loopback listener, opens the
/// browser and returns the authorize URL at once.
#[tauri::command]
pub async fn hubspot_install_start(
    core: State<'_, Arc<Core>>,
    client_id: String,
    client_secret: Option<String>,
) -> CommandResult<InstallStart> {
    Ok(core.connections().hubspot_install_start(client_id, client_secret).await?)
}

/// Resolves when the browser redirect arrived and the code was exchanged.
#[tauri::command]
pub async fn hubspot_install_wait(core: State<'_, Arc<Core>>) -> CommandResult<HubSpotAccount> {
    Ok(core.connections().hubspot_install_wait().await?)
}

/// Cancels the running install.
#[tauri::command]
pub fn hubspot_install_cancel(core: State<'_, Arc<Core>>) {
    core.connections().hubspot_install_cancel();
}

/// Finishes the install from a pasted redirect URL or code.
#[tauri::command]
pub async fn hubspot_install_paste(
    core: State<'_, Arc<Core>>,
    redirect_url_or_code: String,
) -> CommandResult<HubSpotAccount> {
    Ok(core.connections().hubspot_install_paste(redirect_url_or_code).await?)
}

/// Connects with a private-app token or service key.
#[tauri::command]
pub async fn hubspot_connect_private_token(
    core: State<'_, Arc<Core>>,
    token: String,
) -> CommandResult<HubSpotAccount> {
    Ok(core.connections().hubspot_connect_private_token(token).await?)
}

/// Revokes the refresh token and deletes every HubSpot secret.
#[tauri::command]
pub async fn hubspot_disconnect(core: State<'_, Arc<Core>>) -> CommandResult<()> {
    Ok(core.connections().hubspot_disconnect().await?)
}
