//! Build script: embeds the web UI and icons, declares the app's commands (so the capability
//! file can grant them one by one), and makes sure the UI folder exists.

/// Every `#[tauri::command]` of the app. A command missing here cannot be called from the UI.
const COMMANDS: &[&str] = &[
    "app_info",
    "settings_get",
    "connection_status",
    "switch_mode",
    "hubspot_install_start",
    "hubspot_install_wait",
    "hubspot_install_cancel",
    "hubspot_install_paste",
    "hubspot_connect_private_token",
    "hubspot_disconnect",
    "didomi_connect",
    "didomi_disconnect",
    "options_set_upsert",
    "options_enable_bidirectional",
    "options_disable_bidirectional",
    "mapping_load",
    "mapping_save",
    "mapping_create_property",
    "mapping_suggest",
    "config_export",
    "config_import_preview",
    "config_import_apply",
    "sync_check",
    "sync_run",
    "sync_cancel",
    "history_list",
    "history_records",
    "history_export_records_csv",
    "workflow_guide",
    "workflow_check",
    "workflow_simulate",
    "pull_settings_save",
    "pull_run",
    "sync_both",
    "pull_cancel",
    "auto_sync_watch",
    "auto_sync_set",
    "inspect_lookup",
    "inspect_sync",
    "inspect_export",
];

fn main() {
    // `tauri::generate_context!` panics when `frontendDist` is missing, so a plain `cargo build`
    // or `cargo check` without a UI build still works (it embeds an empty UI).
    let dist = std::path::Path::new("../ui/dist");
    if !dist.exists() {
        std::fs::create_dir_all(dist).expect("create ../ui/dist");
    }
    // Files added to or removed from ui/dist (and the icons) do not mark the crate dirty on
    // their own; without these lines stale assets get embedded.
    println!("cargo:rerun-if-changed=../ui/dist");
    println!("cargo:rerun-if-changed=../icons");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step failed");
}
