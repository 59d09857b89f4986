//! The contact inspector of the facade: look one email up, sync that person alone, export it.
//! The lookup is [`crate::inspect::inspect`]; the run of one is the push engine
//! ([`crate::push::engine::push_only`]) and the pull ([`crate::pull::run::pull_only`]) with a
//! one-contact source, under the same lock, pacer, rules and history as every run.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::Runs;
use crate::error::{Error, ErrorCode};
use crate::inspect::{inspect, Inspection, Lookup};
use crate::pull::PullReport;
use crate::run::{RunReport, SyncDirection, SyncProgress, SyncRequest};

/// What "Sync this person now" did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct InspectSync {
    /// The push of this person (Didomi → HubSpot).
    pub push: RunReport,
    /// The pull of this person (HubSpot → Didomi), when the bidirectional flow is on.
    pub pull: Option<PullReport>,
}

impl Runs {
    /// Looks one email up on both sides (see [`crate::inspect`]).
    ///
    /// # Errors
    /// `InvalidInput` for a text that is not an email; `HubSpotNotConnected`,
    /// `DidomiNotConnected`, `MappingEmpty`; API and state-database errors.
    pub async fn inspect(&self, email: String) -> Result<Inspection, Error> {
        let hubspot = self.conn.hubspot().await?;
        let didomi = self.conn.didomi().await?;
        let settings = self.shared.settings();
        if settings.mapping.is_empty() {
            return Err(Error::new(
                ErrorCode::MappingEmpty,
                "Nothing is mapped yet, so there is nothing to compare: map Didomi items to HubSpot properties on the Mapping screen, then look the person up again.",
            ));
        }
        let store = self.resources.store(&self.shared.env.data_dir)?;
        let schemas = self.config.cached_schemas();
        let lookup = Lookup {
            hubspot: &hubspot,
            didomi: &didomi,
            store: &store,
            mapping: &settings.mapping,
            schemas: schemas.as_deref(),
        };
        inspect(lookup, &email).await
    }

    /// "Sync this person now": a push of this person alone (then a pull of it when the
    /// bidirectional flow is on), or their dry runs. Each lands in History as a run of one.
    /// With the bidirectional flow off the push compares with HubSpot's current values (so a
    /// change made in HubSpot by a person is put back to Didomi's answer); with it on the push
    /// writes only what changed in Didomi and the pull then carries HubSpot's changes to
    /// Didomi, as the Sync screen's push-then-pull does.
    ///
    /// # Errors
    /// As [`Runs::push_run`] and [`Runs::pull_run`].
    pub async fn inspect_sync(
        &self,
        email: String,
        dry_run: bool,
        on_progress: impl Fn(SyncProgress) + Send + Sync + 'static,
        cancel: CancellationToken,
    ) -> Result<InspectSync, Error> {
        let found = self.inspect(email).await?;
        let ouids: Vec<String> =
            found.didomi_users.iter().filter_map(|u| u.organization_user_id.clone()).collect();
        let (hubspot, didomi, settings, lang) = self.ensure_ready().await?;
        let bidirectional = settings.options.bidirectional;
        let on_progress: Arc<dyn Fn(SyncProgress) + Send + Sync> = Arc::new(on_progress);
        let push = {
            let _running = self.begin(cancel.clone())?;
            let inputs =
                self.job_inputs(hubspot.clone(), didomi.clone(), settings.clone(), lang.clone());
            let (job, cfg) = self.resources.push_job(&inputs)?;
            let req = SyncRequest { direction: SyncDirection::Push, dry_run, full: !bidirectional };
            crate::push::engine::push_only(
                job,
                ouids,
                req,
                cfg,
                on_progress.clone(),
                cancel.clone(),
            )
            .await?
        };
        if !bidirectional || cancel.is_cancelled() {
            return Ok(InspectSync { push, pull: None });
        }
        let _running = self.begin(cancel.clone())?;
        let inputs = self.job_inputs(hubspot, didomi, settings, lang);
        let (job, cfg) = self.resources.pull_job(&inputs)?;
        let pull = crate::pull::run::pull_only(job, found.email, dry_run, cfg, on_progress, cancel)
            .await?;
        Ok(InspectSync { push, pull: Some(pull) })
    }

    /// Looks the person up and writes the result to `path` as JSON (for a data-subject request
    /// or an audit); returns what was written.
    ///
    /// # Errors
    /// As [`Runs::inspect`]; `InvalidInput` when the file cannot be written.
    pub async fn inspect_export(&self, email: String, path: PathBuf) -> Result<Inspection, Error> {
        let found = self.inspect(email).await?;
        let json = serde_json::to_vec_pretty(&found)
            .map_err(|e| Error::new(ErrorCode::Internal, format!("The export failed: {e}")))?;
        let part = path.with_extension("json.part");
        let written = std::fs::write(&part, json).and_then(|()| std::fs::rename(&part, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&part);
            return Err(Error::invalid_input(format!(
                "The export could not be written to {}: {e}. Choose a folder you can write to.",
                path.display()
            )));
        }
        Ok(found)
    }
}
