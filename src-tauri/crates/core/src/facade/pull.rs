//! The pull facade: `pull_run`, `push_then_pull`, the pull settings, the workflow guide and its
//! "Check", and the Sandbox workflow emulation.
//!
//! The state and history live in `Environment.data_dir` (one database, `sync.sqlite3`, for the
//! history and the per-contact state of both directions). HubSpot calls share the
//! push's per-portal pacer. One pull at a time per [`Core`].
//!
//! Sandbox emulation: the core does not know the mode; [`Runs::workflow_simulate`] takes the
//! simulator's HubSpot base URL from the caller (the shell passes it only in Sandbox) and calls
//! its admin route `PUT /_sim/hubspot/workflow`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::Runs;
use crate::error::{Error, ErrorCode};
use crate::pull::workflow::{self, WorkflowCheck};
use crate::pull::{pull, PullReport, PullSettings};
use crate::run::{RunReport, SyncDirection, SyncProgress, SyncRequest};

/// One step of the workflow setup guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GuideStep {
    /// 1-based step number.
    pub number: u8,
    /// What to do.
    pub text: String,
    /// A deep link into the portal, when the step happens on a page of its own.
    pub link: Option<String>,
    /// The admin ticked it.
    pub checked: bool,
}

/// The workflow setup guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct WorkflowGuide {
    /// Connected portal, if any.
    #[ts(type = "number | null")]
    pub portal_id: Option<u64>,
    /// The portal's workflows page.
    pub workflows_url: Option<String>,
    /// The bidirectional option is on.
    pub bidirectional: bool,
    /// The counter property ("Didomi Changed").
    pub counter_property: String,
    /// The mapped HubSpot properties: the only valid triggers.
    pub mapped_properties: Vec<String>,
    /// The eleven steps.
    pub steps: Vec<GuideStep>,
    /// The pull settings.
    pub settings: PullSettings,
}

/// The Sandbox workflow as the simulator reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SimulatedWorkflow {
    /// On or off.
    pub enabled: bool,
    /// Its triggers.
    pub trigger_properties: Vec<String>,
    /// The counter.
    pub property: String,
    /// How often it ran.
    #[ts(type = "number")]
    pub increments: u64,
}

const STEPS: [&str; 11] = [
    "Open your HubSpot account (the one connected to this app).",
    "Go to Automation › Workflows.",
    "Click \"Create workflow\" and choose \"From scratch\" (contact-based).",
    "Set up triggers › \"When filter criteria is met\": choose changes of the contact properties that should be sent to Didomi. Use only mapped properties (listed below).",
    "Add an action › Property management › \"Increase or decrease property value\".",
    "Select the \"Didomi Changed\" property and increase it by 1.",
    "Click \"Review and publish\".",
    "Choose whether to enroll existing contacts.",
    "Next to \"Re-enrollment\", click \"Edit\".",
    "Turn re-enrollment on and select all the triggers, then save.",
    "Click \"Turn on\" (top right) to enable the workflow.",
];

/// Where the guide's "Open in HubSpot" links go.
struct PortalLinks {
    contacts: String,
    workflows: String,
}

impl Runs {
    /// The portal's contacts and workflows pages: HubSpot's in Live, the simulator's pages in
    /// Sandbox (its contacts page, and the state of its emulated workflow), so a Sandbox link
    /// never opens the real HubSpot.
    fn portal_links(&self) -> Option<PortalLinks> {
        let s = self.shared.settings();
        let portal = s.hubspot.portal_id.or(s.options.hubspot_account_id)?;
        if self.shared.env.mode == crate::Mode::Sandbox {
            let base = self.shared.env.hubspot_app_base.as_str().trim_end_matches('/');
            return Some(PortalLinks {
                contacts: format!("{base}/_sim/hubspot/portal"),
                workflows: format!("{base}/_sim/hubspot/workflow"),
            });
        }
        let domain = s.hubspot.ui_domain.clone().unwrap_or_else(|| "app.hubspot.com".into());
        let domain = domain.trim_start_matches("https://").trim_end_matches('/').to_owned();
        Some(PortalLinks {
            contacts: format!("https://{domain}/contacts/{portal}"),
            workflows: format!("https://{domain}/workflows/{portal}"),
        })
    }

    /// The pull settings (a view of the app's settings).
    ///
    /// # Errors
    /// None today; kept fallible for the IPC contract.
    pub async fn pull_settings(&self) -> Result<PullSettings, Error> {
        Ok(PullSettings::from_settings(&self.shared.settings()))
    }

    /// Saves the pull settings (conflict winner, forwarding, ticked steps).
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] for a step outside 1–11; [`ErrorCode::SettingsInvalid`] when
    /// they cannot be saved.
    pub async fn pull_settings_save(&self, mut s: PullSettings) -> Result<PullSettings, Error> {
        if let Some(bad) = s.checked_steps.iter().find(|n| !(1..=11).contains(*n)) {
            return Err(Error::invalid_input(format!(
                "Step {bad} does not exist: the guide has steps 1 to 11."
            )));
        }
        s.checked_steps.sort_unstable();
        s.checked_steps.dedup();
        self.shared.update_settings(|x| s.apply_to(x))?;
        Ok(s)
    }

    /// The workflow setup guide: the seed's eleven steps with deep links and ticks, the mapped
    /// properties (the only valid triggers) and the settings.
    ///
    /// # Errors
    /// [`ErrorCode::SyncStateUnavailable`].
    pub async fn workflow_guide(&self) -> Result<WorkflowGuide, Error> {
        let s = self.shared.settings();
        let settings = self.pull_settings().await?;
        let links = self.portal_links();
        let steps = STEPS
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let n = i as u8 + 1;
                GuideStep {
                    number: n,
                    text: (*t).to_owned(),
                    link: match n {
                        1 => links.as_ref().map(|l| l.contacts.clone()),
                        2 | 3 | 11 => links.as_ref().map(|l| l.workflows.clone()),
                        _ => None,
                    },
                    checked: settings.checked_steps.contains(&n),
                }
            })
            .collect();
        let mut mapped: Vec<String> =
            s.mapping.entries.iter().map(|e| e.property.clone()).collect();
        mapped.dedup();
        Ok(WorkflowGuide {
            portal_id: s.hubspot.portal_id,
            workflows_url: links.map(|l| l.workflows),
            bidirectional: s.options.bidirectional,
            counter_property: s.options.didomi_changed_property.clone(),
            mapped_properties: mapped,
            steps,
            settings,
        })
    }

    /// Tells whether the workflow works for a test contact (see [`crate::pull::workflow`]).
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] for an empty email; HubSpot errors.
    pub async fn workflow_check(&self, email: String) -> Result<WorkflowCheck, Error> {
        let email = workflow::test_email(&email)?;
        let s = self.shared.settings();
        let mapped: Vec<String> = s.mapping.entries.iter().map(|e| e.property.clone()).collect();
        let hubspot = self.conn.hubspot().await?;
        workflow::check(&hubspot, &mapped, &s.options.didomi_changed_property, &email).await
    }

    /// Sandbox only: turns the simulator's workflow on or off with the mapped properties as
    /// triggers. `admin_base` is the simulator's HubSpot base URL (the shell passes it only in
    /// Sandbox).
    ///
    /// # Errors
    /// [`ErrorCode::InvalidInput`] when the simulator refuses (e.g. no "Didomi Changed" yet);
    /// [`ErrorCode::HubSpotUnavailable`] when it does not answer.
    pub async fn workflow_simulate(
        &self,
        admin_base: &url::Url,
        enabled: bool,
    ) -> Result<SimulatedWorkflow, Error> {
        let s = self.shared.settings();
        let mut triggers: Vec<String> =
            s.mapping.entries.iter().map(|e| e.property.clone()).collect();
        triggers.dedup();
        if enabled && triggers.is_empty() {
            return Err(Error::invalid_input("Nothing is mapped yet: map at least one property on the Mapping screen; the simulated workflow uses the mapped properties as triggers."));
        }
        let url = crate::environment::endpoint(admin_base, "/_sim/hubspot/workflow");
        let body = serde_json::json!({"enabled": enabled, "triggerProperties": triggers, "property": s.options.didomi_changed_property});
        let r = self.shared.http.put(url).json(&body).send().await.map_err(|e| {
            Error::new(
                ErrorCode::HubSpotUnavailable,
                format!(
                    "The Sandbox simulator did not answer ({e}); restart the app in Sandbox mode."
                ),
            )
        })?;
        let ok = r.status().is_success();
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        if !ok {
            return Err(Error::invalid_input(format!(
                "The simulated workflow could not be set: {}. Turn on the bidirectional flow on the Options screen first.",
                v["error"].as_str().unwrap_or("unknown error")
            )));
        }
        serde_json::from_value(v).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("The simulator answered an unexpected shape: {e}"),
            )
        })
    }

    /// Runs a pull (HubSpot → Didomi). Refuses to start while HubSpot or Didomi is not
    /// connected, nothing is mapped, the bidirectional flow is off, or another pull runs.
    ///
    /// # Errors
    /// The refusals above; [`ErrorCode::SyncStateUnavailable`]; HubSpot/Didomi errors that
    /// stopped the run (it is `Failed` in the history).
    pub async fn pull_run(
        &self,
        dry_run: bool,
        on_progress: impl Fn(SyncProgress) + Send + Sync + 'static,
        cancel: CancellationToken,
    ) -> Result<PullReport, Error> {
        let settings = self.shared.settings();
        if !settings.options.bidirectional {
            return Err(Error::new(
                ErrorCode::BidirectionalOff,
                "The bidirectional flow is off: turn it on on the Options screen (it creates \"Didomi Changed\"), set up the HubSpot workflow on the Workflow screen, then pull.",
            ));
        }
        if settings.mapping.is_empty() {
            return Err(Error::new(ErrorCode::MappingEmpty, "Nothing is mapped yet: map at least one Didomi item to a HubSpot property on the Mapping screen, then pull again."));
        }
        // The push's checks (connections, nothing stale) and its label language: the pull
        // parses the labels the push wrote.
        let (hubspot, didomi, settings, lang) = self.ensure_ready().await?;
        let _running = self.begin(cancel.clone())?;
        let inputs = self.job_inputs(hubspot, didomi, settings, lang);
        let (job, cfg) = self.resources.pull_job(&inputs)?;
        pull(job, dry_run, cfg, Arc::new(on_progress), cancel).await
    }

    /// Push then pull, with one cancel token; the pull does not start when the push failed or
    /// was cancelled.
    ///
    /// # Errors
    /// As [`Runs::push_run`] and [`Runs::pull_run`].
    pub async fn push_then_pull(
        &self,
        dry_run: bool,
        on_progress: impl Fn(SyncProgress) + Send + Sync + 'static,
        cancel: CancellationToken,
    ) -> Result<(RunReport, Option<PullReport>), Error> {
        let on_progress = Arc::new(on_progress);
        let p = on_progress.clone();
        let push = self
            .push_run(
                SyncRequest { direction: SyncDirection::Push, dry_run, full: false },
                move |x| p(x),
                cancel.clone(),
            )
            .await?;
        if cancel.is_cancelled() {
            return Ok((push, None));
        }
        let p = on_progress.clone();
        let pulled = self.pull_run(dry_run, move |x| p(x), cancel).await?;
        Ok((push, Some(pulled)))
    }
}
