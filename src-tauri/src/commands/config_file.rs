//! Export and import of the configuration file (options + mapping). The shell only picks the
//! file, with tauri-plugin-dialog opened from Rust (the webview has no dialog permission and
//! never sends a path); the core writes, reads, validates and applies it.
//!
//! Import is two steps: `config_import_preview` asks for the file, remembers its path and
//! returns the preview (diff, warnings, errors and a content token); `config_import_apply`
//! applies that same file only if its content still matches the token.
//!
//! # `DHS_TEST_DIALOG_DIR` (tests only)
//!
//! A real-window test cannot drive the native dialogs. When the environment variable
//! `DHS_TEST_DIALOG_DIR` is set (and not empty), no dialog is shown: export writes
//! `<DHS_TEST_DIALOG_DIR>/export.json` and import reads `<DHS_TEST_DIALOG_DIR>/import.json`.
//! Never set it for real use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dhs_core::config_file::{ExportSummary, ImportPreview};
use dhs_core::{Core, Error, ErrorCode, Settings};
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

use crate::error::CommandResult;
use crate::state::Shell;

/// Environment variable that replaces the file dialogs by a fixed folder (tests only).
pub const TEST_DIALOG_DIR_ENV: &str = "DHS_TEST_DIALOG_DIR";

/// The default name offered by the export dialog.
const DEFAULT_FILE_NAME: &str = "didomi-hubspot-sync-config.json";

/// An import file the user picked, with its preview. Crosses IPC.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PickedImport {
    /// The file chosen (shown in the preview).
    pub path: String,
    /// What importing it would change.
    pub preview: ImportPreview,
}

/// Which dialog a path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Export,
    Import,
}

/// Asks where to save (or uses [`TEST_DIALOG_DIR_ENV`]) and exports the options and mapping.
/// `None` when the dialog was closed without choosing a file.
#[tauri::command]
pub async fn config_export(
    app: AppHandle,
    core: State<'_, Arc<Core>>,
) -> CommandResult<Option<ExportSummary>> {
    let Some(path) = pick(&app, Pick::Export).await? else {
        return Ok(None);
    };
    Ok(Some(core.configuration().config_export(path).await?))
}

/// Asks for a file (or uses [`TEST_DIALOG_DIR_ENV`]) and previews its import; nothing is
/// applied. `None` when the dialog was closed without choosing a file.
#[tauri::command]
pub async fn config_import_preview(
    app: AppHandle,
    core: State<'_, Arc<Core>>,
    shell: State<'_, Shell>,
) -> CommandResult<Option<PickedImport>> {
    let Some(path) = pick(&app, Pick::Import).await? else {
        return Ok(None);
    };
    let preview = core.configuration().config_import_preview(path.clone()).await?;
    shell.swap_previewed_import(Some(path.clone()));
    Ok(Some(PickedImport { path: path.display().to_string(), preview }))
}

/// Applies the previewed file if its content still matches `token` (else `ImportChanged`).
#[tauri::command]
pub async fn config_import_apply(
    core: State<'_, Arc<Core>>,
    shell: State<'_, Shell>,
    token: String,
) -> CommandResult<Settings> {
    let path = shell.previewed_import().ok_or_else(|| {
        Error::invalid_input(
            "No import file was previewed. Click Import… and choose the file again.",
        )
    })?;
    let settings = core.configuration().config_import_apply(path, token).await?;
    shell.swap_previewed_import(None);
    Ok(settings)
}

/// The file used without a dialog when the tests' folder is set (and not empty).
fn test_dialog_path(dir: Option<&std::ffi::OsStr>, pick: Pick) -> Option<PathBuf> {
    let name = match pick {
        Pick::Export => "export.json",
        Pick::Import => "import.json",
    };
    dir.filter(|d| !d.is_empty()).map(|d| Path::new(d).join(name))
}

/// The path from the tests' folder, or from the native dialog (without blocking a runtime
/// thread); `None` when the user closed the dialog.
async fn pick(app: &AppHandle, pick: Pick) -> Result<Option<PathBuf>, Error> {
    if let Some(path) = test_dialog_path(std::env::var_os(TEST_DIALOG_DIR_ENV).as_deref(), pick) {
        return Ok(Some(path));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let dialog = app.dialog().file().add_filter("JSON", &["json"]);
    // The receiver only goes away if the command was dropped; nothing to tell then.
    match pick {
        Pick::Export => dialog
            .set_title("Export the configuration")
            .set_file_name(DEFAULT_FILE_NAME)
            .save_file(move |p| {
                let _ = tx.send(p);
            }),
        Pick::Import => dialog.set_title("Import a configuration").pick_file(move |p| {
            let _ = tx.send(p);
        }),
    }
    let picked = rx.await.map_err(|_| {
        Error::new(ErrorCode::Internal, "The file dialog closed unexpectedly. Try again.")
    })?;
    picked
        .map(|p| {
            p.into_path().map_err(|e| {
                Error::invalid_input(format!(
                    "The chosen location is not a file on this computer ({e}). Choose a local file."
                ))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_folder_replaces_the_dialogs_with_fixed_file_names() {
        let dir = std::ffi::OsString::from("/tmp/dhs-dialogs");
        assert_eq!(
            test_dialog_path(Some(&dir), Pick::Export),
            Some(PathBuf::from("/tmp/dhs-dialogs/export.json")),
            "the documented <dir>/export.json"
        );
        assert_eq!(
            test_dialog_path(Some(&dir), Pick::Import),
            Some(PathBuf::from("/tmp/dhs-dialogs/import.json")),
            "the documented <dir>/import.json"
        );
    }

    #[test]
    fn unset_or_empty_test_folder_means_the_real_dialog() {
        assert_eq!(test_dialog_path(None, Pick::Export), None, "unset: ask the user");
        let empty = std::ffi::OsString::new();
        assert_eq!(test_dialog_path(Some(&empty), Pick::Import), None, "empty is not a folder");
    }
}
