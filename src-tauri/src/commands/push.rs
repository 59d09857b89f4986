//! Sync and history commands: check that a sync could run, run one (progress streamed over a
//! [`Channel`]), cancel it, list the history, page through a run's failed and skipped records,
//! and export the records of a run that were not written (failed, skipped, invalid, duplicate)
//! as CSV to a file chosen in the native save dialog.
//!
//! # `DHS_TEST_DIALOG_DIR` (tests only)
//!
//! A real-window test cannot drive the native save dialog. When the environment variable
//! `DHS_TEST_DIALOG_DIR` is set, `history_export_records_csv` shows no dialog and writes
//! `<DHS_TEST_DIALOG_DIR>/run-<runId>-not-written.csv` instead. Never set it for real use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dhs_core::{
    Core, Error, ErrorCode, RecordOutcome, RunReport, RunSummary, SyncProgress, SyncRequest,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::CommandResult;

/// Environment variable that replaces the save dialog by a fixed folder (tests only).
pub const TEST_DIALOG_DIR_ENV: &str = "DHS_TEST_DIALOG_DIR";

/// Where the CSV of records not written was written. Crosses IPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CsvExport {
    /// The file written.
    pub path: String,
    /// Record rows written (the header not counted).
    #[ts(type = "number")]
    pub rows: u64,
}

/// Runs a sync (or a dry run) and returns its report. Progress goes to `on_progress` (the core
/// sends at most ~10 updates a second); `run_cancel` stops it after the batches in flight.
#[tauri::command]
pub async fn push_run(
    core: State<'_, Arc<Core>>,
    request: SyncRequest,
    on_progress: Channel<SyncProgress>,
) -> CommandResult<RunReport> {
    let send = move |p: SyncProgress| {
        // The window may be gone (closed or reloaded); the run goes on and lands in History.
        if let Err(e) = on_progress.send(p) {
            tracing::debug!(error = %e, "sync progress not delivered");
        }
    };
    Ok(core.runs().push_run(request, send, CancellationToken::new()).await?)
}

/// Checks, without starting anything, that a sync could run: both systems connected, something
/// mapped, no stale mapping entry (the Sync screen shows the refusal before any click).
#[tauri::command]
pub async fn push_check(core: State<'_, Arc<Core>>) -> CommandResult<()> {
    core.configuration().mapping_ready().await?;
    Ok(())
}

/// Cancels the running run, push or pull (or "Push then pull"), if any.
#[tauri::command]
pub async fn run_cancel(core: State<'_, Arc<Core>>) -> CommandResult<()> {
    core.runs().run_cancel().await;
    Ok(())
}

/// The latest `limit` runs, newest first.
#[tauri::command]
pub async fn history_list(
    core: State<'_, Arc<Core>>,
    limit: u32,
) -> CommandResult<Vec<RunSummary>> {
    Ok(core.runs().history_list(limit).await?)
}

/// One page of a run's failed and skipped records.
#[tauri::command]
pub async fn history_records(
    core: State<'_, Arc<Core>>,
    run_id: i64,
    limit: u32,
    offset: u32,
) -> CommandResult<Vec<RecordOutcome>> {
    Ok(core.runs().history_records(run_id, limit, offset).await?)
}

/// Asks where to save the records of a run that were not written (or uses
/// [`TEST_DIALOG_DIR_ENV`]) and writes them as CSV, each with its outcome. `None` when the dialog was closed without choosing a file.
#[tauri::command]
pub async fn history_export_records_csv(
    app: AppHandle,
    core: State<'_, Arc<Core>>,
    run_id: i64,
) -> CommandResult<Option<CsvExport>> {
    let path = match test_dialog_path(std::env::var_os(TEST_DIALOG_DIR_ENV).as_deref(), run_id) {
        Some(path) => path,
        None => match ask_save_path(&app, run_id).await? {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let rows = core.runs().history_records_csv(run_id, path.clone()).await?;
    Ok(Some(CsvExport { path: path.display().to_string(), rows }))
}

/// The default file name of a run's records not written.
fn file_name(run_id: i64) -> String {
    format!("run-{run_id}-not-written.csv")
}

/// The file written without a dialog when the tests' folder is set (and not empty).
fn test_dialog_path(dir: Option<&std::ffi::OsStr>, run_id: i64) -> Option<PathBuf> {
    dir.filter(|d| !d.is_empty()).map(|d| Path::new(d).join(file_name(run_id)))
}

/// Shows the native save dialog without blocking a runtime thread.
async fn ask_save_path(app: &AppHandle, run_id: i64) -> Result<Option<PathBuf>, Error> {
    save_dialog(app, "Export the records not written as CSV", file_name(run_id), ("CSV", &["csv"]))
        .await
}

/// The native save dialog (titled `title`, offering `name`, filtered to `filter`), without
/// blocking a runtime thread; `None` when it was closed without choosing a file.
pub(crate) async fn save_dialog(
    app: &AppHandle,
    title: &str,
    name: String,
    filter: (&str, &[&str]),
) -> Result<Option<PathBuf>, Error> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .set_file_name(name)
        .add_filter(filter.0, filter.1)
        .save_file(move |picked| {
            // The receiver only goes away if the command was dropped; nothing to tell then.
            let _ = tx.send(picked);
        });
    let picked = rx.await.map_err(|_| {
        Error::new(
            ErrorCode::Internal,
            "The save dialog closed unexpectedly. Try the export again.",
        )
    })?;
    picked
        .map(|p| {
            p.into_path().map_err(|e| {
                Error::invalid_input(format!(
                    "The chosen location cannot be written as a file ({e}). Choose a folder on this computer."
                ))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_folder_replaces_the_dialog_with_a_fixed_file_name() {
        let dir = std::ffi::OsString::from("/tmp/dhs-shots");
        assert_eq!(
            test_dialog_path(Some(&dir), 42),
            Some(PathBuf::from("/tmp/dhs-shots/run-42-not-written.csv")),
            "the documented <dir>/run-<runId>-not-written.csv"
        );
    }

    #[test]
    fn unset_or_empty_test_folder_means_the_real_dialog() {
        assert_eq!(test_dialog_path(None, 1), None, "unset: ask the user");
        let empty = std::ffi::OsString::new();
        assert_eq!(test_dialog_path(Some(&empty), 1), None, "empty is not a folder");
    }

    #[test]
    fn csv_export_crosses_ipc_in_camel_case() {
        let v = serde_json::to_value(CsvExport { path: "/tmp/f.csv".into(), rows: 3 })
            .expect("serializable");
        assert_eq!(
            v,
            serde_json::json!({"path": "/tmp/f.csv", "rows": 3}),
            "the UI's CsvExport reads exactly these fields"
        );
    }
}
