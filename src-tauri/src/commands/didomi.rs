//! Didomi connection commands.

use std::sync::Arc;

use dhs_core::{Core, DidomiAccount};
use tauri::State;

use crate::error::CommandResult;

/// Checks the key pair against the organization and saves it (secret to the keychain).
#[tauri::command]
pub async fn didomi_connect(
    core: State<'_, Arc<Core>>,
    api_key: String,
    api_secret: Option<String>,
    organization_id: String,
) -> CommandResult<DidomiAccount> {
    Ok(core.connections().didomi_connect(api_key, api_secret, organization_id).await?)
}

/// Forgets the Didomi credentials.
#[tauri::command]
pub async fn didomi_disconnect(core: State<'_, Arc<Core>>) -> CommandResult<()> {
    Ok(core.connections().didomi_disconnect().await?)
}
