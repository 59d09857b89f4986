//! Mapping screen commands: load (optionally re-reading both schemas), save, create a
//! compatible HubSpot property, and suggest properties for unmapped rows.

use std::sync::Arc;

use dhs_core::mapping::{DidomiItem, HubSpotPropertyOption, Mapping, Suggestion};
use dhs_core::{Core, MappingView};
use tauri::State;

use crate::error::CommandResult;

/// The Didomi rows, the compatible HubSpot properties, the saved mapping and its stale
/// entries; `refresh` re-reads both schemas.
#[tauri::command]
pub async fn mapping_load(core: State<'_, Arc<Core>>, refresh: bool) -> CommandResult<MappingView> {
    Ok(core.configuration().mapping_load(refresh).await?)
}

/// Saves the mapping; refused (with a coded error naming the rows) when any entry is invalid.
#[tauri::command]
pub async fn mapping_save(core: State<'_, Arc<Core>>, draft: Mapping) -> CommandResult<Mapping> {
    Ok(core.configuration().mapping_save(draft).await?)
}

/// Creates a HubSpot property compatible with `item` (in the Didomi group, named after the row).
#[tauri::command]
pub async fn mapping_create_property(
    core: State<'_, Arc<Core>>,
    item: DidomiItem,
) -> CommandResult<HubSpotPropertyOption> {
    Ok(core.configuration().mapping_create_property(item).await?)
}

/// Proposals for the unmapped rows of `draft`; nothing is applied.
#[tauri::command]
pub async fn mapping_suggest(
    core: State<'_, Arc<Core>>,
    draft: Mapping,
) -> CommandResult<Vec<Suggestion>> {
    Ok(core.configuration().mapping_suggest(draft).await?)
}
