//! The Tauri 2 shell of Didomi HubSpot Sync: decides Sandbox or Live once at startup, builds the
//! [`dhs_core::Core`] (starting the in-process simulator in Sandbox), persists settings through
//! `tauri-plugin-store`, logs to a file, and exposes the core to the web UI as thin commands.
//! All logic lives in `dhs_core`; nothing here talks to HubSpot or Didomi.

pub mod commands;
pub mod error;
pub mod logging;
pub mod mode;
pub mod sandbox;
pub mod settings_store;
pub mod state;

use std::sync::Arc;

use dhs_core::environment::Environment;
use dhs_core::secrets::SecretStore;
use dhs_core::{Core, Mode};
use tauri::{AppHandle, Manager};
use tauri_plugin_store::StoreExt;
use tokio_util::sync::CancellationToken;

use crate::sandbox::Sandbox;
use crate::state::Shell;

/// Builds and runs the app (blocks until the last window closes).
pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            setup(app.handle())?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::settings_get,
            commands::app::connection_status,
            commands::app::switch_mode,
            commands::hubspot::hubspot_install_start,
            commands::hubspot::hubspot_install_wait,
            commands::hubspot::hubspot_install_cancel,
            commands::hubspot::hubspot_install_paste,
            commands::hubspot::hubspot_connect_private_token,
            commands::hubspot::hubspot_disconnect,
            commands::didomi::didomi_connect,
            commands::didomi::didomi_disconnect,
            commands::options::options_set_upsert,
            commands::options::options_enable_bidirectional,
            commands::options::options_disable_bidirectional,
            commands::mapping::mapping_load,
            commands::mapping::mapping_save,
            commands::mapping::mapping_create_property,
            commands::mapping::mapping_suggest,
            commands::config_file::config_export,
            commands::config_file::config_import_preview,
            commands::config_file::config_import_apply,
            commands::push::push_check,
            commands::push::push_run,
            commands::push::run_cancel,
            commands::push::history_list,
            commands::push::history_records,
            commands::push::history_export_records_csv,
            commands::pull::workflow_guide,
            commands::pull::workflow_check,
            commands::pull::workflow_simulate,
            commands::pull::pull_settings_save,
            commands::pull::pull_run,
            commands::pull::push_then_pull,
            commands::auto_sync::auto_sync_watch,
            commands::auto_sync::auto_sync_set,
            commands::inspect::inspect_lookup,
            commands::inspect::inspect_sync,
            commands::inspect::inspect_export,
        ])
        .run(tauri::generate_context!())
        .expect("error while running Didomi HubSpot Sync");
}

/// Decides the mode, starts the simulator in Sandbox, loads settings and puts
/// `Arc<Core>` and [`Shell`] into Tauri state.
fn setup(app: &AppHandle) -> Result<(), Box<dyn std::error::Error>> {
    let mut warnings = Vec::new();
    match app.path().app_log_dir().map_err(|e| e.to_string()).and_then(|d| logging::init(&d)) {
        Ok(guard) => {
            app.manage(guard);
        }
        // Logging is not worth refusing to start over; say so on stderr and in the UI.
        Err(e) => {
            eprintln!("file logging disabled: {e}");
            warnings.push(format!("Logging to a file is disabled: {e}"));
        }
    }
    let data_dir = app.path().app_data_dir()?;
    std::fs::create_dir_all(&data_dir)?;

    let decision = mode::decide(&data_dir, std::env::var(mode::MODE_ENV).ok().as_deref());
    warnings.extend(decision.warnings);
    tracing::info!(mode = mode::name(decision.mode), version = %app.package_info().version, "starting");

    let (environment, sandbox) = match decision.mode {
        Mode::Live => (Environment::live(data_dir.clone()), None),
        Mode::Sandbox => {
            // Inside Tauri's Tokio runtime, so the simulator's server tasks keep running.
            let simulator = tauri::async_runtime::block_on(sandbox::start())
                .map_err(|e| format!("could not start the Sandbox simulator: {e}"))?;
            tracing::info!(hubspot = %simulator.info.hubspot, didomi = %simulator.info.didomi, "simulator started");
            let env = sandbox::environment(&simulator.info, data_dir.clone())?;
            (env, Some(Sandbox::new(simulator)))
        }
    };

    let store_name = settings_store::file_name(decision.mode);
    let loaded = settings_store::load(&data_dir.join(store_name));
    if let Some(w) = loaded.warning {
        tracing::warn!("{w}");
        warnings.push(w);
    }
    let store = app.store(store_name)?;
    let secrets = SecretStore::keyring(environment.keyring_service.clone());
    let core = Core::new(environment, loaded.settings, secrets, settings_store::sink(store));
    // The keychain probe (a write, a read and a delete over D-Bus) runs while the window and
    // its web process start, not after the first screen asks for the status.
    tauri::async_runtime::spawn({
        let core = core.clone();
        async move { core.connections().probe_keychain().await }
    });
    // Auto-sync (off unless the admin set an interval) lives as long as the app.
    tauri::async_runtime::spawn(core.runs().auto_sync_scheduler(CancellationToken::new()));
    app.manage::<Arc<Core>>(core);
    app.manage(Shell {
        version: app.package_info().version.to_string(),
        data_dir,
        warnings,
        sandbox,
        previewed_import: std::sync::Mutex::new(None),
    });
    Ok(())
}
