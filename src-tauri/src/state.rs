//! What the shell keeps in Tauri state besides `Arc<dhs_core::Core>`.

use std::path::PathBuf;

use serde::Serialize;
use ts_rs::TS;

use crate::sandbox::Sandbox;

/// Shell facts fixed at startup.
#[derive(Debug)]
pub struct Shell {
    /// App version (from `tauri.conf.json`).
    pub version: String,
    /// App data dir (holds `mode.json` and the store files).
    pub data_dir: PathBuf,
    /// Problems met at startup (bad mode file, settings moved aside, …), shown in the UI.
    pub warnings: Vec<String>,
    /// The running simulator in Sandbox mode; `None` in Live.
    pub sandbox: Option<Sandbox>,
    /// The file of the last import preview: apply only ever applies the file the user chose
    /// and saw.
    pub previewed_import: std::sync::Mutex<Option<PathBuf>>,
}

impl Shell {
    /// The file of the last import preview, replaced by `path` (`None` clears it).
    pub fn swap_previewed_import(&self, path: Option<PathBuf>) -> Option<PathBuf> {
        let mut previewed = self.previewed_import.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *previewed, path)
    }

    /// The file of the last import preview.
    pub fn previewed_import(&self) -> Option<PathBuf> {
        self.previewed_import.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Static facts about this run for the UI. Crosses IPC; no secrets.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppInfo {
    /// App version.
    pub version: String,
    /// Mode, API hosts, redirect URIs, keychain state, Sandbox prefill.
    pub environment: dhs_core::environment::EnvironmentInfo,
    /// Problems met at startup.
    pub warnings: Vec<String>,
}
