//! Sandbox or Live, decided ONCE at startup from `mode.json` in the app data dir (Sandbox on the
//! very first run) or the `DHS_MODE` environment variable (tests, CI).

use std::path::{Path, PathBuf};

use dhs_core::Mode;

/// File name of the saved mode, in the app data dir.
pub const MODE_FILE: &str = "mode.json";
/// Environment variable that overrides the saved mode for one run: `sandbox` or `live`.
pub const MODE_ENV: &str = "DHS_MODE";

/// The mode for this run and anything worth telling the user about how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The mode to run in.
    pub mode: Mode,
    /// Problems met while deciding (shown in the UI and logged).
    pub warnings: Vec<String>,
}

/// Parses `sandbox` / `live` (any case, surrounding spaces ignored).
pub fn parse(value: &str) -> Option<Mode> {
    match value.trim().to_ascii_lowercase().as_str() {
        "sandbox" => Some(Mode::Sandbox),
        "live" => Some(Mode::Live),
        _ => None,
    }
}

/// The lowercase name written to `mode.json`.
pub fn name(mode: Mode) -> &'static str {
    match mode {
        Mode::Sandbox => "sandbox",
        Mode::Live => "live",
    }
}

/// Path of `mode.json` under `data_dir`.
pub fn file(data_dir: &Path) -> PathBuf {
    data_dir.join(MODE_FILE)
}

/// Decides the mode: `env_override` (the value of `DHS_MODE`) wins, then `mode.json`; with
/// neither, Sandbox, and `mode.json` is written so the choice is stable. A broken file or
/// variable falls back to Sandbox (never to Live by accident) with a warning.
pub fn decide(data_dir: &Path, env_override: Option<&str>) -> Decision {
    let mut warnings = Vec::new();
    if let Some(value) = env_override {
        match parse(value) {
            Some(mode) => return Decision { mode, warnings },
            None => warnings
                .push(format!("{MODE_ENV}={value:?} is not `sandbox` or `live`; it was ignored.")),
        }
    }
    let path = file(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("mode").and_then(|m| m.as_str()).and_then(parse))
        {
            Some(mode) => Decision { mode, warnings },
            None => {
                warnings.push(format!(
                    "{} is not valid ({{\"mode\": \"sandbox\"|\"live\"}} expected); starting in \
                     Sandbox. Use “Switch to Live” to choose Live again.",
                    path.display()
                ));
                Decision { mode: Mode::Sandbox, warnings }
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Err(e) = write(data_dir, Mode::Sandbox) {
                warnings.push(format!("Could not save the mode ({e}); Sandbox is used."));
            }
            Decision { mode: Mode::Sandbox, warnings }
        }
        Err(e) => {
            warnings.push(format!("Could not read {} ({e}); starting in Sandbox.", path.display()));
            Decision { mode: Mode::Sandbox, warnings }
        }
    }
}

/// Saves `mode` for the next start (creates `data_dir` if needed; written atomically).
///
/// # Errors
/// When the directory or file cannot be written.
pub fn write(data_dir: &Path, mode: Mode) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let tmp = data_dir.join(format!("{MODE_FILE}.tmp"));
    std::fs::write(&tmp, serde_json::json!({ "mode": name(mode) }).to_string())?;
    std::fs::rename(tmp, file(data_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_is_sandbox_and_is_remembered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = decide(dir.path(), None);
        assert_eq!(d.mode, Mode::Sandbox, "no file, no env: Sandbox");
        assert!(d.warnings.is_empty(), "a first run is not a problem: {:?}", d.warnings);
        let saved = std::fs::read_to_string(file(dir.path())).expect("mode.json written");
        assert_eq!(saved, r#"{"mode":"sandbox"}"#, "the default is saved so it stays stable");
    }

    #[test]
    fn saved_mode_is_used_and_env_overrides_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), Mode::Live).expect("write");
        assert_eq!(decide(dir.path(), None).mode, Mode::Live, "mode.json says live");
        assert_eq!(
            decide(dir.path(), Some(" Sandbox ")).mode,
            Mode::Sandbox,
            "DHS_MODE wins over the file, case and spaces ignored"
        );
        assert_eq!(
            std::fs::read_to_string(file(dir.path())).expect("file"),
            r#"{"mode":"live"}"#,
            "an env override does not rewrite the saved choice"
        );
    }

    #[test]
    fn broken_inputs_fall_back_to_sandbox_with_a_warning() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(file(dir.path()), "{ not json").expect("write");
        let d = decide(dir.path(), Some("production"));
        assert_eq!(d.mode, Mode::Sandbox, "never Live by accident");
        assert_eq!(d.warnings.len(), 2, "both the env value and the file are reported: {d:?}");
        assert!(d.warnings[0].contains("DHS_MODE"), "names the variable: {}", d.warnings[0]);
        assert!(d.warnings[1].contains("mode.json"), "names the file: {}", d.warnings[1]);
    }
}
