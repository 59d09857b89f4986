//! Build script: embeds the web UI and icons, declares the app's commands (so the capability
//! file can grant them one by one), and makes sure the UI folder exists.

// `COMMANDS`: every command of the app, the one list the handler list, the capability file and
// the TypeScript facade are checked against (`commands::list` tests).
include!("src/commands/list.rs");

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
