//! Options screen commands: upsert mode and the bidirectional flow.

use std::sync::Arc;

use dhs_core::settings::SyncOptions;
use dhs_core::{BidirectionalSetup, Core};
use tauri::State;

use crate::error::CommandResult;

/// Turns upsert mode on or off and returns the saved options.
#[tauri::command]
pub async fn options_set_upsert(
    core: State<'_, Arc<Core>>,
    on: bool,
) -> CommandResult<SyncOptions> {
    Ok(core.configuration().options_set_upsert(on).await?)
}

/// Enables the bidirectional flow for `account` (the HubSpot account id or a pasted HubSpot
/// URL): checks it is the connected portal and creates or reuses the "Didomi Changed" property.
#[tauri::command]
pub async fn options_enable_bidirectional(
    core: State<'_, Arc<Core>>,
    account: String,
) -> CommandResult<BidirectionalSetup> {
    Ok(core.configuration().options_enable_bidirectional(account).await?)
}

/// Turns the bidirectional flow off (deletes nothing in HubSpot).
#[tauri::command]
pub async fn options_disable_bidirectional(
    core: State<'_, Arc<Core>>,
) -> CommandResult<SyncOptions> {
    Ok(core.configuration().options_disable_bidirectional().await?)
}
