//! Where settings are saved: the core's settings file per mode ([`dhs_core::settings_file`]:
//! `settings.json` in Live, `settings.sandbox.json` in Sandbox, top-level keys the fields of
//! [`dhs_core::Settings`]), written here through `tauri-plugin-store`. The core owns the model
//! and the layout (the CLI reads the same file); this module only loads and writes it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dhs_core::Settings;
use serde_json::Value;
use tauri::Runtime;
use tauri_plugin_store::Store;

/// The store file name for a mode (the core owns the layout: [`dhs_core::settings_file`]).
pub use dhs_core::settings_file::file_name;

/// Settings read at startup and anything worth telling the user.
#[derive(Debug)]
pub struct Loaded {
    /// The settings to start with.
    pub settings: Settings,
    /// Set when the file was unreadable or invalid and was moved aside.
    pub warning: Option<String>,
}

/// Reads the store file at `path` before the store plugin opens it. A missing file gives the
/// defaults. A file that is not JSON or that `Settings::from_json` rejects is renamed to
/// `<name>.invalid` (so nothing is lost and the plugin can open a fresh file) and the defaults
/// are used, with a warning.
pub fn load(path: &Path) -> Loaded {
    match dhs_core::settings_file::read(path) {
        Ok(settings) => Loaded { settings, warning: None },
        Err(why) => set_aside(path, &why),
    }
}

fn set_aside(path: &Path, why: &str) -> Loaded {
    let backup = invalid_copy_path(path);
    let moved = std::fs::rename(path, &backup);
    let warning = match moved {
        Ok(()) => format!(
            "The settings file {} was not usable: {why}. It was moved to {} and default \
             settings are used; connect again.",
            path.display(),
            backup.display()
        ),
        Err(e) => format!(
            "The settings file {} was not usable: {why}, and it could not be moved aside ({e}). \
             Default settings are used.",
            path.display()
        ),
    };
    Loaded { settings: Settings::default(), warning: Some(warning) }
}

/// `<path>.invalid`.
pub fn invalid_copy_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".invalid");
    path.with_file_name(name)
}

/// What to change in a store holding `existing_keys` so it equals `settings`: the entries to set
/// and the keys to delete.
pub fn plan_write(
    existing_keys: &[String],
    settings: &Settings,
) -> (Vec<(String, Value)>, Vec<String>) {
    let sets: Vec<(String, Value)> = match settings.to_json() {
        Value::Object(map) => map.into_iter().collect(),
        other => vec![("settings".to_owned(), other)],
    };
    let deletes =
        existing_keys.iter().filter(|k| !sets.iter().any(|(s, _)| s == *k)).cloned().collect();
    (sets, deletes)
}

/// The [`dhs_core::SettingsSink`] that writes every change to `store` and saves it at once.
pub fn sink<R: Runtime>(store: Arc<Store<R>>) -> dhs_core::SettingsSink {
    Box::new(move |settings: &Settings| {
        let existing: Vec<String> = store.keys();
        let (sets, deletes) = plan_write(&existing, settings);
        for key in deletes {
            store.delete(key);
        }
        for (key, value) in sets {
            store.set(key, value);
        }
        store.save().map_err(|e| format!("could not save the settings file: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_without_warning() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = load(&dir.path().join("settings.json"));
        assert_eq!(l.settings, Settings::default(), "first run starts from the defaults");
        assert!(l.warning.is_none(), "a missing file is normal");
    }

    #[test]
    fn saved_file_round_trips_through_plan_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        let mut s = Settings::default();
        s.hubspot.client_id = Some("client-123".into());
        s.didomi.organization_id = Some("org-9".into());
        let (sets, deletes) = plan_write(&["stale".to_owned(), "hubspot".to_owned()], &s);
        assert_eq!(deletes, vec!["stale".to_owned()], "keys no longer in Settings are removed");
        let obj: serde_json::Map<String, Value> = sets.into_iter().collect();
        std::fs::write(&path, Value::Object(obj).to_string()).expect("write");
        let l = load(&path);
        assert_eq!(l.settings, s, "what the sink writes is what the next start reads");
        assert!(l.warning.is_none(), "valid file: {:?}", l.warning);
    }

    #[test]
    fn broken_file_is_moved_aside_and_defaults_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.sandbox.json");
        std::fs::write(&path, "{ this is not json").expect("write");
        let l = load(&path);
        assert_eq!(l.settings, Settings::default(), "defaults after a broken file");
        let w = l.warning.expect("the user is told");
        assert!(w.contains("not JSON"), "says why: {w}");
        assert!(!path.exists(), "the broken file no longer blocks the store plugin");
        assert_eq!(
            std::fs::read_to_string(invalid_copy_path(&path)).expect("backup kept"),
            "{ this is not json",
            "nothing the user had is lost"
        );
    }

    #[test]
    fn the_core_knows_the_identifier_of_tauri_conf() {
        let conf: Value = serde_json::from_str(include_str!("../tauri.conf.json")).expect("JSON");
        assert_eq!(
            conf["identifier"].as_str(),
            Some(dhs_core::settings_file::APP_IDENTIFIER),
            "the CLI finds the app data folder through the core's copy of the identifier"
        );
    }
}
