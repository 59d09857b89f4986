//! Where the app's settings are saved, for every front end (the window and the CLI): a JSON file
//! per mode in the app data folder whose top-level keys are the fields of [`Settings`]
//! ([`Settings::to_json`]). The window writes it through tauri-plugin-store; the CLI reads it and
//! writes back only what it changed. Both take the names and the reading rules from here.

use std::path::{Path, PathBuf};

use crate::environment::Mode;
use crate::settings::Settings;

/// The app's bundle identifier (`identifier` in `tauri.conf.json`): the app data folder is
/// `<user data folder>/<identifier>`.
pub const APP_IDENTIFIER: &str = "io.dhsync.app";

/// The settings file name of a mode (kept apart so Sandbox never touches Live settings).
pub fn file_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Live => "settings.json",
        Mode::Sandbox => "settings.sandbox.json",
    }
}

/// The settings file of `mode` in the app data folder `data_dir`.
pub fn path(data_dir: &Path, mode: Mode) -> PathBuf {
    data_dir.join(file_name(mode))
}

/// Reads the settings file at `path`: a missing file gives the defaults; otherwise the reason it
/// is not usable ("it could not be read (…)", "it is not JSON (…)", or what
/// [`Settings::from_json`] refused).
///
/// # Errors
/// The reason, as a sentence fragment the caller puts after the file's name.
pub fn read(path: &Path) -> Result<Settings, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => return Err(format!("it could not be read ({e})")),
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("it is not JSON ({e})"))
        .and_then(|v| Settings::from_json(v).map_err(|e| e.to_string()))
}

/// Which settings a front end writes back into a file another front end also writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Only the `hubspot` section (a refreshed token's expiry): options or a mapping overridden
    /// for one run are not saved.
    HubSpot,
    /// Every setting (after a configuration import).
    All,
}

/// Writes `part` of `settings` into the file at `path`, keeping the keys it does not write (the
/// window's own edits, keys of a newer version), through a temporary file renamed over it.
///
/// # Errors
/// A message when the folder or file cannot be written.
pub fn write_part(path: &Path, settings: &Settings, part: Part) -> Result<(), String> {
    let mut value: serde_json::Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| serde_json::json!({}));
    let fresh = settings.to_json();
    if let (Some(obj), serde_json::Value::Object(fresh)) = (value.as_object_mut(), fresh) {
        match part {
            Part::All => obj.extend(fresh),
            Part::HubSpot => {
                if let Some(hs) = fresh.get("hubspot") {
                    obj.insert("hubspot".into(), hs.clone());
                }
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, value.to_string()).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_file_and_writes_back_only_the_part_asked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = path(dir.path(), Mode::Live);
        assert_eq!(read(&path).expect("missing file"), Settings::default(), "defaults");
        let mut s = Settings::default();
        s.options.upsert = true;
        std::fs::write(&path, s.to_json().to_string()).expect("write");
        let mut changed = read(&path).expect("reads");
        assert!(changed.options.upsert, "options read from the file");
        changed.options.upsert = false;
        changed.hubspot.access_token_expires_at = Some("2030-01-01T00:00:00Z".into());
        write_part(&path, &changed, Part::HubSpot).expect("saves");
        let again = read(&path).expect("reads");
        assert!(again.options.upsert, "options untouched by a HubSpot-only write");
        assert_eq!(again.hubspot.access_token_expires_at, changed.hubspot.access_token_expires_at);
        write_part(&path, &changed, Part::All).expect("saves all");
        assert!(!read(&path).expect("reads").options.upsert, "every setting written");
        std::fs::write(&path, "{ nope").expect("write");
        assert!(read(&path).unwrap_err().contains("not JSON"), "says why");
    }

    #[test]
    fn writing_keeps_keys_it_does_not_know() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = path(dir.path(), Mode::Live);
        std::fs::write(&path, r#"{"windowState": {"w": 1}}"#).expect("write");
        write_part(&path, &Settings::default(), Part::All).expect("saves");
        let raw = std::fs::read_to_string(&path).expect("read");
        assert!(raw.contains("windowState"), "other keys of the file are kept: {raw}");
    }

    #[test]
    fn file_names_keep_modes_apart() {
        assert_eq!(file_name(Mode::Live), "settings.json", "live file");
        assert_eq!(file_name(Mode::Sandbox), "settings.sandbox.json", "sandbox file");
    }
}
