//! `sync pull` and `sync both`: the bidirectional flow (HubSpot → Didomi) headless, over the
//! app's saved connection (the `Core` facade, as the app's Pull button) or over base URLs with
//! credentials from the environment (same variables as `sync push`). The report is printed as
//! JSON on stdout; the exit code follows the pull's status (0 / 2 partial / 1).
//!
//! `--sandbox` is not offered: the in-process simulator has no HubSpot workflow raising "Didomi
//! Changed", so a pull would find nothing; use the app's Sandbox (Workflow › Simulate).

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use dhs_core::jobs::RunResources;
use dhs_core::pull::PullReport;
use dhs_core::{SyncDirection, SyncRequest};
use serde::Serialize;

use crate::run::{
    cancel_on_signal, config_file, core_err, exit_code, progress, run_push, saved_or_file, Direct,
};
use crate::{PullArgs, Source};

/// What `sync both` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BothOut {
    push: dhs_core::RunReport,
    pull: Option<PullReport>,
}

/// `sync pull` (`both = false`) or `sync both`.
pub async fn run(src: &Source, args: &PullArgs, both: bool) -> Result<u8> {
    if src.sandbox {
        bail!("--sandbox is not available for the pull: the in-process simulator has no HubSpot workflow raising \"Didomi Changed\". Try it in the app's Sandbox (Workflow › Simulate this workflow), or point --hubspot-base-url/--didomi-base-url at a running simulator");
    }
    let from_file = src.config.as_deref().map(config_file).transpose()?;
    let cancel = cancel_on_signal();
    let direct = src.hubspot_base_url.is_some()
        || src.didomi_base_url.is_some()
        || std::env::var_os("HUBSPOT_ACCESS_TOKEN").is_some();
    if !direct {
        let core = crate::run::app_core(src, from_file)?;
        if both {
            let (push, pull) = core
                .runs()
                .push_then_pull(args.dry_run, progress(args.json), cancel)
                .await
                .map_err(core_err)?;
            return print_both(push, pull);
        }
        let r = core
            .runs()
            .pull_run(args.dry_run, progress(args.json), cancel)
            .await
            .map_err(core_err)?;
        println!("{}", serde_json::to_string_pretty(&r).context("report to JSON")?);
        return Ok(exit_code(r.run.summary.status));
    }
    let direct = Direct::from_env(src)?;
    let (data_dir, options, mapping) = saved_or_file(src, from_file)?;
    let inputs = direct.job_inputs(src.upsert_override(), data_dir, options, mapping).await?;
    let runs = RunResources::default();
    let push = if both {
        let req =
            SyncRequest { direction: SyncDirection::Push, dry_run: args.dry_run, full: false };
        let r = run_push(&runs, &inputs, req, args.json, cancel.clone()).await?;
        if cancel.is_cancelled() {
            return print_both(r, None);
        }
        Some(r)
    } else {
        None
    };
    let (job, cfg) = runs.pull_job(&inputs).map_err(core_err)?;
    let r = dhs_core::pull::pull(job, args.dry_run, cfg, Arc::new(progress(args.json)), cancel)
        .await
        .map_err(core_err)?;
    match push {
        Some(p) => print_both(p, Some(r)),
        None => {
            println!("{}", serde_json::to_string_pretty(&r).context("report to JSON")?);
            Ok(exit_code(r.run.summary.status))
        }
    }
}

fn print_both(push: dhs_core::RunReport, pull: Option<PullReport>) -> Result<u8> {
    let code = match &pull {
        Some(p) => exit_code(push.summary.status).max(exit_code(p.run.summary.status)),
        None => 1,
    };
    let out = BothOut { push, pull };
    println!("{}", serde_json::to_string_pretty(&out).context("report to JSON")?);
    Ok(code)
}
