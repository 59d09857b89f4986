//! The desktop app's data folder and saved settings, as the core's [`settings_file`] lays them
//! out (the same file the window writes). The CLI always uses Live (a Sandbox app talks to an
//! in-process simulator that only lives inside the app).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dhs_core::settings_file::{self, Part};
use dhs_core::{Mode, Settings};

/// The app's data folder: Tauri's app data folder, `<user data folder>/<identifier>`.
pub fn data_dir() -> Result<PathBuf> {
    dirs::data_dir().map(|d| d.join(settings_file::APP_IDENTIFIER)).context(
        "this system has no user data folder (set XDG_DATA_HOME or HOME), or pass --data-dir",
    )
}

/// The Live settings file in `dir`.
pub fn settings_path(dir: &Path) -> PathBuf {
    settings_file::path(dir, Mode::Live)
}

/// Reads the Live settings in `dir`; a missing file gives the defaults.
pub fn load(dir: &Path) -> Result<Settings> {
    let path = settings_path(dir);
    settings_file::read(&path).map_err(|why| {
        anyhow::anyhow!(
            "the settings in {} are not usable: {why}; open the app once to repair it",
            path.display()
        )
    })
}

/// Writes back only the `hubspot` part of `settings` (a refreshed token's expiry), leaving the
/// rest of the file (the app's own edits, a mapping the CLI overrode) untouched.
pub fn save_hubspot(dir: &Path, settings: &Settings) -> Result<(), String> {
    settings_file::write_part(&settings_path(dir), settings, Part::HubSpot)
}

/// Writes every setting (after a configuration import), keeping keys the CLI does not know.
pub fn save_all(dir: &Path, settings: &Settings) -> Result<(), String> {
    settings_file::write_part(&settings_path(dir), settings, Part::All)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_ends_with_the_identifier() {
        if let Ok(d) = data_dir() {
            assert!(d.ends_with(settings_file::APP_IDENTIFIER), "app data folder: {}", d.display());
        }
    }

    #[test]
    fn a_broken_file_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(settings_path(dir.path()), "{ nope").expect("write");
        let e = load(dir.path()).unwrap_err();
        assert!(format!("{e:#}").contains("not JSON"), "clear error: {e:#}");
    }
}
