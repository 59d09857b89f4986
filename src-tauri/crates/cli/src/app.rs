//! The desktop app's saved settings, read the way the shell stores them.
//!
//! Replicated from `src-tauri/src/settings_store.rs` and `mode.rs` (the shell crate depends on
//! Tauri, so it cannot be shared without moving code out of it): Tauri's app data folder is
//! `dirs::data_dir()/<identifier>` (identifier `io.dhsync.app` from `tauri.conf.json`); the
//! Live settings are the tauri-plugin-store file `settings.json` there, whose top-level keys are
//! the fields of [`dhs_core::Settings`]. The CLI always uses Live (a Sandbox app talks to an
//! in-process simulator that only lives inside the app).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dhs_core::Settings;

/// The Tauri bundle identifier (`tauri.conf.json`).
pub const IDENTIFIER: &str = "io.dhsync.app";
/// The Live settings store file.
pub const SETTINGS_FILE: &str = "settings.json";

/// The app's data folder.
pub fn data_dir() -> Result<PathBuf> {
    dirs::data_dir().map(|d| d.join(IDENTIFIER)).context(
        "this system has no user data folder (set XDG_DATA_HOME or HOME), or pass --data-dir",
    )
}

/// Reads the settings file in `dir`; a missing file gives the defaults.
pub fn load(dir: &Path) -> Result<Settings> {
    let path = dir.join(SETTINGS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!("{} is not JSON; open the app once to repair it", path.display())
    })?;
    Settings::from_json(value)
        .with_context(|| format!("the settings in {} are not usable", path.display()))
}

/// Writes back only the `hubspot` part of `settings` (a refreshed token's expiry), leaving the
/// rest of the file (the app's own edits, a mapping the CLI overrode) untouched.
pub fn save_hubspot(dir: &Path, settings: &Settings) -> Result<(), String> {
    let path = dir.join(SETTINGS_FILE);
    let mut value: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let fresh = settings.to_json();
    if let (Some(obj), Some(hs)) = (value.as_object_mut(), fresh.get("hubspot")) {
        obj.insert("hubspot".into(), hs.clone());
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, value.to_string()).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &path).map_err(|e| e.to_string())
}

/// Writes every setting (after a configuration import), keeping keys the CLI does not know.
pub fn save_all(dir: &Path, settings: &Settings) -> Result<(), String> {
    let path = dir.join(SETTINGS_FILE);
    let mut value: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    if let (Some(obj), serde_json::Value::Object(fresh)) =
        (value.as_object_mut(), settings.to_json())
    {
        obj.extend(fresh);
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, value.to_string()).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_store_file_and_writes_back_only_hubspot() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(load(dir.path()).expect("missing file"), Settings::default(), "defaults");
        let mut s = Settings::default();
        s.options.upsert = true;
        s.didomi.organization_id = Some("acme".into());
        std::fs::write(dir.path().join(SETTINGS_FILE), s.to_json().to_string()).expect("write");
        let loaded = load(dir.path()).expect("loads");
        assert!(loaded.options.upsert, "options read from the store file");
        let mut changed = loaded.clone();
        changed.options.upsert = false;
        changed.hubspot.access_token_expires_at = Some("2030-01-01T00:00:00Z".into());
        save_hubspot(dir.path(), &changed).expect("saves");
        let again = load(dir.path()).expect("loads");
        assert!(again.options.upsert, "options untouched by the CLI");
        assert_eq!(
            again.hubspot.access_token_expires_at.as_deref(),
            Some("2030-01-01T00:00:00Z"),
            "expiry saved"
        );
        std::fs::write(dir.path().join(SETTINGS_FILE), "{ nope").expect("write");
        let e = load(dir.path()).unwrap_err();
        assert!(format!("{e:#}").contains("not JSON"), "clear error: {e:#}");
    }

    #[test]
    fn save_all_writes_every_setting_and_keeps_unknown_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(SETTINGS_FILE), r#"{"windowState": {"w": 1}}"#)
            .expect("write");
        let mut s = Settings::default();
        s.options.upsert = true;
        save_all(dir.path(), &s).expect("saves");
        assert!(load(dir.path()).expect("loads").options.upsert, "options saved");
        let raw = std::fs::read_to_string(dir.path().join(SETTINGS_FILE)).expect("read");
        assert!(raw.contains("windowState"), "other keys of the store file are kept: {raw}");
    }

    #[test]
    fn data_dir_ends_with_the_identifier() {
        if let Ok(d) = data_dir() {
            assert!(d.ends_with(IDENTIFIER), "Tauri's app data folder: {}", d.display());
        }
    }
}
