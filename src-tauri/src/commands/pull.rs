//! Pull and Workflow screen commands: the workflow guide and its ticks, "Check", the Sandbox
//! workflow emulation, the pull (progress streamed over a [`Channel`]), push-then-pull, and
//! cancel.
//!
//! The Sandbox emulation is the one place that needs the mode: the core takes the simulator's
//! base URL as an argument, and only this shell command knows it (from [`Shell::sandbox`]); in
//! Live the command refuses with a clear message.

use std::sync::Arc;

use dhs_core::pull::{PullReport, PullSettings};
use dhs_core::{
    Core, Error, RunReport, SimulatedWorkflow, SyncProgress, WorkflowCheck, WorkflowGuide,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::CommandResult;
use crate::state::Shell;

/// The result of "Push then pull". Crosses IPC.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BothReport {
    /// The push.
    pub push: RunReport,
    /// The pull (`None` when the push was cancelled).
    pub pull: Option<PullReport>,
}

fn sender(on_progress: Channel<SyncProgress>) -> impl Fn(SyncProgress) + Send + Sync + 'static {
    move |p: SyncProgress| {
        // The window may be gone; the run goes on and lands in History.
        if let Err(e) = on_progress.send(p) {
            tracing::debug!(error = %e, "pull progress not delivered");
        }
    }
}

/// The workflow setup guide (steps, deep links, ticks, mapped properties, settings).
#[tauri::command]
pub async fn workflow_guide(core: State<'_, Arc<Core>>) -> CommandResult<WorkflowGuide> {
    Ok(core.runs().workflow_guide().await?)
}

/// "Check": did the counter of the test contact `email` rise after its last mapped edit?
#[tauri::command]
pub async fn workflow_check(
    core: State<'_, Arc<Core>>,
    email: String,
) -> CommandResult<WorkflowCheck> {
    Ok(core.runs().workflow_check(email).await?)
}

/// Sandbox only: turns the simulated HubSpot workflow on or off (mapped properties as triggers).
#[tauri::command]
pub async fn workflow_simulate(
    core: State<'_, Arc<Core>>,
    shell: State<'_, Shell>,
    enabled: bool,
) -> CommandResult<SimulatedWorkflow> {
    let Some(sandbox) = shell.sandbox.as_ref() else {
        return Err(Error::invalid_input(
            "The workflow can only be simulated in Sandbox mode; in Live, set it up in HubSpot with the steps above.",
        )
        .into());
    };
    let base = url::Url::parse(&sandbox.info().hubspot).map_err(|e| {
        Error::new(dhs_core::ErrorCode::Internal, format!("The simulator URL is invalid: {e}"))
    })?;
    Ok(core.runs().workflow_simulate(&base, enabled).await?)
}

/// Saves the pull settings (conflict winner, forwarding, ticked steps).
#[tauri::command]
pub async fn pull_settings_save(
    core: State<'_, Arc<Core>>,
    settings: PullSettings,
) -> CommandResult<PullSettings> {
    Ok(core.runs().pull_settings_save(settings).await?)
}

/// Runs a pull (HubSpot → Didomi) or its dry run.
#[tauri::command]
pub async fn pull_run(
    core: State<'_, Arc<Core>>,
    dry_run: bool,
    on_progress: Channel<SyncProgress>,
) -> CommandResult<PullReport> {
    Ok(core.runs().pull_run(dry_run, sender(on_progress), CancellationToken::new()).await?)
}

/// Push then pull.
#[tauri::command]
pub async fn push_then_pull(
    core: State<'_, Arc<Core>>,
    dry_run: bool,
    on_progress: Channel<SyncProgress>,
) -> CommandResult<BothReport> {
    let (push, pull) =
        core.runs().push_then_pull(dry_run, sender(on_progress), CancellationToken::new()).await?;
    Ok(BothReport { push, pull })
}
