//! App-wide commands: run facts, settings, connection status, simulator status, mode switch.

use std::sync::Arc;

use dhs_core::{ConnectionStatus, Core, Mode, Settings};
use tauri::{AppHandle, State};

use crate::error::{CommandError, CommandResult};
use crate::state::{AppInfo, Shell};

/// Version, environment (mode, hosts, redirect URIs, prefill) and startup warnings.
#[tauri::command]
pub fn app_info(core: State<'_, Arc<Core>>, shell: State<'_, Shell>) -> AppInfo {
    AppInfo {
        version: shell.version.clone(),
        environment: core.environment(),
        warnings: shell.warnings.clone(),
    }
}

/// The saved settings (never contains a secret).
#[tauri::command]
pub fn settings_get(core: State<'_, Arc<Core>>) -> Settings {
    core.settings()
}

/// Connection state of HubSpot, Didomi and the keychain, and whether both API hosts answer
/// (in Sandbox: the simulator).
#[tauri::command]
pub async fn connection_status(core: State<'_, Arc<Core>>) -> CommandResult<ConnectionStatus> {
    Ok(core.connections().status().await)
}

/// Saves `mode` in `mode.json` and restarts the app in it.
#[tauri::command]
pub fn switch_mode(app: AppHandle, shell: State<'_, Shell>, mode: Mode) -> CommandResult<()> {
    crate::mode::write(&shell.data_dir, mode).map_err(|e| {
        CommandError::internal(format!("Could not save the mode ({e}). Check that the app data folder is writable, then try again."))
    })?;
    tracing::info!(mode = crate::mode::name(mode), "mode switched; restarting");
    app.restart()
}
