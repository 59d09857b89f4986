//! `config export FILE` / `config import FILE`: the app's options and mapping as a versioned
//! JSON file, with the core's own export, preview and apply (`Core::config_*`). Both use the
//! app's saved settings and keychain (the import checks the file against the live Didomi
//! configuration and HubSpot properties, so both connections are needed).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dhs_core::{Core, Environment, SecretStore, Settings};

use crate::app;

fn core(save_all: bool) -> Result<(std::sync::Arc<Core>, PathBuf)> {
    let dir = app::data_dir()?;
    let settings = app::load(&dir)?;
    let env = Environment::live(dir.clone());
    let secrets = SecretStore::keyring(env.keyring_service.clone());
    let sink_dir = dir.clone();
    let sink: dhs_core::SettingsSink = if save_all {
        Box::new(move |s: &Settings| app::save_all(&sink_dir, s))
    } else {
        Box::new(move |s: &Settings| app::save_hubspot(&sink_dir, s))
    };
    Ok((Core::new(env, settings, secrets, sink), dir))
}

fn err(e: dhs_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{} ({:?})", e.message, e.code)
}

/// `config export FILE`.
pub async fn export(file: &Path) -> Result<u8> {
    let (core, _) = core(false)?;
    let summary = core.configuration().config_export(file.to_path_buf()).await.map_err(err)?;
    println!("{}", serde_json::to_string_pretty(&summary).context("summary to JSON")?);
    Ok(0)
}

/// `config import FILE`: preview (printed), then apply when the file has no error.
pub async fn import(file: &Path) -> Result<u8> {
    let (core, dir) = core(true)?;
    let preview =
        core.configuration().config_import_preview(file.to_path_buf()).await.map_err(err)?;
    eprintln!("{}", serde_json::to_string_pretty(&preview).context("preview to JSON")?);
    if !preview.can_apply {
        eprintln!("nothing was imported: fix the errors above in {} and run again", file.display());
        return Ok(1);
    }
    core.configuration()
        .config_import_apply(file.to_path_buf(), preview.token.clone())
        .await
        .map_err(err)?;
    eprintln!("imported into {}", app::settings_path(&dir).display());
    println!("{}", serde_json::json!({ "applied": true, "entries": preview.entries }));
    Ok(0)
}
