//! Auto-sync commands: the status (streamed over a [`Channel`] while the window lives) and the
//! interval. The scheduler itself is spawned once at startup (`lib.rs`).

use std::sync::Arc;

use dhs_core::run::auto::AutoSyncStatus;
use dhs_core::Core;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::CommandResult;

/// Streams the auto-sync status to the window: the current one at once, then every change.
#[tauri::command]
pub fn auto_sync_watch(core: State<'_, Arc<Core>>, on_status: Channel<AutoSyncStatus>) {
    core.runs().auto_sync_listen(move |s| {
        // The window may be gone or reloaded; its next watch replaces this one.
        if let Err(e) = on_status.send(s) {
            tracing::debug!(error = %e, "auto-sync status not delivered");
        }
    });
}

/// Turns auto-sync on every `minutes` minutes (5 to 1440), or off (`null`).
#[tauri::command]
pub fn auto_sync_set(
    core: State<'_, Arc<Core>>,
    minutes: Option<u32>,
) -> CommandResult<AutoSyncStatus> {
    Ok(core.runs().auto_sync_set(minutes)?)
}
