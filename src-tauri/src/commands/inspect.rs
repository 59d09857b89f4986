//! Contact inspector commands: look one email up, sync that person alone (progress over a
//! [`Channel`]), and export the lookup as JSON to a file chosen in the native save dialog
//! (or, in tests, `<DHS_TEST_DIALOG_DIR>/inspect-<email>.json`, see [`super::push`]).

use std::path::Path;
use std::sync::Arc;

use dhs_core::inspect::Inspection;
use dhs_core::{Core, InspectSync, SyncProgress};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::push::{save_dialog, TEST_DIALOG_DIR_ENV};
use crate::error::CommandResult;

/// Where a person's export was written, and what it holds. Crosses IPC.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct InspectExport {
    /// The file written.
    pub path: String,
    /// What was written.
    pub inspection: Inspection,
}

/// Looks one email up on both sides.
#[tauri::command]
pub async fn inspect_lookup(
    core: State<'_, Arc<Core>>,
    email: String,
) -> CommandResult<Inspection> {
    Ok(core.runs().inspect(email).await?)
}

/// "Sync this person now" (or its dry run); runs of one, in History.
#[tauri::command]
pub async fn inspect_sync(
    core: State<'_, Arc<Core>>,
    email: String,
    dry_run: bool,
    on_progress: Channel<SyncProgress>,
) -> CommandResult<InspectSync> {
    let send = move |p: SyncProgress| {
        if let Err(e) = on_progress.send(p) {
            tracing::debug!(error = %e, "inspect sync progress not delivered");
        }
    };
    Ok(core.runs().inspect_sync(email, dry_run, send, CancellationToken::new()).await?)
}

/// Asks where to save (or uses the tests' folder) and writes the person's lookup as JSON.
/// `None` when the dialog was closed without choosing a file.
#[tauri::command]
pub async fn inspect_export(
    app: AppHandle,
    core: State<'_, Arc<Core>>,
    email: String,
) -> CommandResult<Option<InspectExport>> {
    let name = file_name(&email);
    let path = match std::env::var_os(TEST_DIALOG_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => Path::new(&dir).join(&name),
        None => match save_dialog(&app, "Export this person", name, ("JSON", &["json"])).await? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let inspection = core.runs().inspect_export(email, path.clone()).await?;
    Ok(Some(InspectExport { path: path.display().to_string(), inspection }))
}

/// `inspect-<email>.json` with only letters, digits, `.`, `-`, `_` and `@` kept.
fn file_name(email: &str) -> String {
    let safe: String = email
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || "@.-_".contains(c) { c } else { '_' })
        .collect();
    format!("inspect-{safe}.json")
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_file_names_are_safe() {
        assert_eq!(super::file_name(" Ann.Lee@X.com "), "inspect-ann.lee@x.com.json");
        assert_eq!(super::file_name("a/../b@x.com"), "inspect-a_.._b@x.com.json");
    }
}
