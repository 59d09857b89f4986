//! The only constructors of push and pull jobs, called by the window (through [`crate::Core`]),
//! auto-sync and the CLI alike, so that a data folder used by one front end then another keeps
//! its per-contact state and never re-sends: the same state scope (HubSpot host, portal id,
//! Didomi organization), the same pull event ids (`hs-pull-<portal id>-…`), the same pacing per
//! portal and the same database.
//!
//! [`RunResources`] holds what runs share inside one process (one pacer per portal, each
//! database opened once); [`crate::Core`] owns one, the CLI makes its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::didomi::events::EventWriter;
use crate::didomi::DidomiClient;
use crate::error::Error;
use crate::hubspot::HubSpotClient;
use crate::pull::{PullConfig, PullJob, PullSettings};
use crate::push::{EngineConfig, PushJob};
use crate::run::{state_scope, Pacer, Store};
use crate::settings::{HubSpotAuthMode, Settings};

/// The portal part of a scope written by the CLI's direct mode before it used the portal id.
/// Data folders with that scope are carried over to the portal id (see [`RunResources`]).
pub const LEGACY_CLI_PORTAL: &str = "token";

/// What a job is built from, whichever front end starts it.
#[derive(Debug, Clone)]
pub struct JobInputs {
    /// The HubSpot client.
    pub hubspot: Arc<HubSpotClient>,
    /// The Didomi client.
    pub didomi: Arc<DidomiClient>,
    /// The HubSpot API host the client talks to (part of the state scope).
    pub hubspot_base: url::Url,
    /// The folder of the state and history database.
    pub data_dir: PathBuf,
    /// The settings the run follows: options, mapping, `hubspot.portal_id` and `auth_mode`,
    /// `didomi.organization_id`.
    pub settings: Settings,
    /// The language preference labels are written and read in (the one the Mapping screen
    /// shows for this organization).
    pub lang: String,
}

impl JobInputs {
    /// The HubSpot portal id as the scope and event ids spell it (`"portal"` while unknown).
    pub fn portal(&self) -> String {
        self.settings.hubspot.portal_id.map(|p| p.to_string()).unwrap_or_else(|| "portal".into())
    }

    /// The Didomi organization id.
    pub fn organization(&self) -> &str {
        self.settings.didomi.organization_id.as_deref().unwrap_or_default()
    }

    /// The key of the per-contact state of both directions.
    pub fn scope(&self) -> String {
        state_scope(self.hubspot_base.as_str(), &self.portal(), self.organization())
    }

    /// The scope the CLI's direct mode used to write for the same host and organization.
    fn legacy_scope(&self) -> String {
        state_scope(self.hubspot_base.as_str(), LEGACY_CLI_PORTAL, self.organization())
    }

    /// HubSpot's rolling-window limit for this connection: 100 for a private app (Free/Starter),
    /// 110 for the OAuth app.
    pub fn rate_limit(&self) -> u32 {
        match self.settings.hubspot.auth_mode {
            Some(HubSpotAuthMode::PrivateApp) => 100,
            _ => 110,
        }
    }
}

/// What the runs of one process share: one request pacer per HubSpot portal and limit (two runs
/// against one portal never double the rate), one search pacer per portal, and each data
/// folder's database opened once.
#[derive(Debug, Default)]
pub struct RunResources {
    pacers: Mutex<HashMap<String, Arc<Pacer>>>,
    search_pacers: Mutex<HashMap<String, Arc<Pacer>>>,
    stores: Mutex<HashMap<PathBuf, Arc<Store>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The database of `data_dir` in `open`, opened with `open` the first time.
fn open_once<T>(
    open: &Mutex<HashMap<PathBuf, Arc<T>>>,
    data_dir: &Path,
    opener: impl FnOnce(&Path) -> Result<T, Error>,
) -> Result<Arc<T>, Error> {
    let mut open = lock(open);
    if let Some(db) = open.get(data_dir) {
        return Ok(db.clone());
    }
    let db = Arc::new(opener(data_dir)?);
    open.insert(data_dir.to_path_buf(), db.clone());
    Ok(db)
}

impl RunResources {
    /// The state and history database of `data_dir`.
    ///
    /// # Errors
    /// [`crate::ErrorCode::SyncStateUnavailable`].
    pub fn store(&self, data_dir: &Path) -> Result<Arc<Store>, Error> {
        open_once(&self.stores, data_dir, |d| Ok(Store::open_in(d)?))
    }

    fn pacer(&self, portal: &str, cfg: &EngineConfig) -> Arc<Pacer> {
        let key = format!("{portal}/{}/{:?}", cfg.rate_limit, cfg.rate_window);
        lock(&self.pacers).entry(key).or_insert_with(|| Arc::new(cfg.pacer())).clone()
    }

    fn search_pacer(&self, portal: &str, cfg: &PullConfig) -> Arc<Pacer> {
        lock(&self.search_pacers)
            .entry(portal.to_owned())
            .or_insert_with(|| Arc::new(cfg.search_pacer()))
            .clone()
    }

    /// The push job (and its engine configuration) for `inputs`.
    ///
    /// # Errors
    /// [`crate::ErrorCode::SyncStateUnavailable`].
    pub fn push_job(&self, inputs: &JobInputs) -> Result<(PushJob, EngineConfig), Error> {
        let s = &inputs.settings;
        let cfg = EngineConfig {
            rate_limit: inputs.rate_limit(),
            batch_size: s.options.batch_size.clamp(1, 100) as usize,
            lang: inputs.lang.clone(),
            ..EngineConfig::default()
        };
        let store = self.store(&inputs.data_dir)?;
        store.rename_scope(&inputs.legacy_scope(), &inputs.scope())?;
        let job = PushJob {
            hubspot: inputs.hubspot.clone(),
            didomi: inputs.didomi.clone(),
            store,
            pacer: self.pacer(&inputs.portal(), &cfg),
            mapping: s.mapping.clone(),
            upsert: s.options.upsert,
            scope: inputs.scope(),
        };
        Ok((job, cfg))
    }

    /// The pull job (and its configuration) for `inputs`.
    ///
    /// # Errors
    /// [`crate::ErrorCode::SyncStateUnavailable`].
    pub fn pull_job(&self, inputs: &JobInputs) -> Result<(PullJob, PullConfig), Error> {
        let s = &inputs.settings;
        let engine = EngineConfig { rate_limit: inputs.rate_limit(), ..EngineConfig::default() };
        let cfg = PullConfig { lang: inputs.lang.clone(), ..PullConfig::default() };
        let (scope, legacy) = (inputs.scope(), inputs.legacy_scope());
        let store = self.store(&inputs.data_dir)?;
        store.rename_scope(&legacy, &scope)?;
        let portal = inputs.portal();
        let job = PullJob {
            events: EventWriter::new(inputs.didomi.clone()),
            hubspot: inputs.hubspot.clone(),
            didomi: inputs.didomi.clone(),
            store,
            settings: PullSettings::from_settings(s),
            pacer: self.pacer(&portal, &engine),
            search_pacer: self.search_pacer(&portal, &cfg),
            mapping: s.mapping.clone(),
            counter_property: s.options.didomi_changed_property.clone(),
            scope,
            portal,
        };
        Ok((job, cfg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::didomi::Session;
    use crate::run::store::{Outcome, Recorded};

    fn inputs(dir: &Path, portal: Option<u64>) -> JobInputs {
        let http = reqwest::Client::new();
        let hubspot_base: url::Url = "http://127.0.0.1:9/".parse().expect("url");
        let didomi_base: url::Url = "http://127.0.0.1:9/".parse().expect("url");
        let session = Session::new(http.clone(), didomi_base.clone(), "k".into(), "s".into());
        let mut settings = Settings::default();
        settings.hubspot.portal_id = portal;
        settings.hubspot.auth_mode = Some(HubSpotAuthMode::PrivateApp);
        settings.didomi.organization_id = Some("acme".into());
        JobInputs {
            hubspot: Arc::new(HubSpotClient::with_token(
                http.clone(),
                hubspot_base.clone(),
                "t".into(),
            )),
            didomi: Arc::new(DidomiClient::new(
                http,
                didomi_base,
                Arc::new(session),
                "acme".into(),
            )),
            hubspot_base,
            data_dir: dir.to_path_buf(),
            settings,
            lang: "en".into(),
        }
    }

    /// A data folder written by the CLI's direct mode before it used the portal id (scope
    /// `<host>|token|<org>`) keeps its per-contact state of both directions.
    #[test]
    fn a_folder_of_the_old_cli_scope_keeps_its_state_under_the_portal_id() {
        let dir = tempfile::tempdir().expect("temp dir");
        let new = inputs(dir.path(), Some(4242));
        let legacy = state_scope(new.hubspot_base.as_str(), LEGACY_CLI_PORTAL, "acme");
        {
            let store = Store::open_in(dir.path()).expect("store");
            store.ensure_scope(&legacy).expect("old scope");
            store.record(&[Recorded::new("a@x.com", Outcome::Written, 7, Some("101"))]).unwrap();
            let state = store.pull();
            state.advance_watermark(50).expect("watermark");
            state
                .record_done(&[crate::pull::Handled::keeping_baseline("101", "a@x.com", 3)])
                .expect("counter");
        }
        let runs = RunResources::default();
        let (push, _) = runs.push_job(&new).expect("push job");
        let (pull, _) = runs.pull_job(&new).expect("pull job");
        assert_eq!(push.scope, format!("{}|4242|acme", new.hubspot_base), "the portal id");
        assert_eq!((pull.scope.as_str(), pull.portal.as_str()), (push.scope.as_str(), "4242"));
        // What the engines do first: drop the state when the scope differs.
        push.store.ensure_scope(&push.scope).expect("scope");
        let st = push.store.states(&["a@x.com"]).expect("states");
        assert_eq!(st["a@x.com"].hash, Some(7), "the push's fingerprint is kept");
        let state = pull.store.pull();
        assert_eq!(state.watermark().expect("watermark"), 50, "the pull's watermark is kept");
        assert_eq!(state.contacts(&["101"]).expect("contacts")["101"].counter, 3);
    }

    #[test]
    fn one_pacer_per_portal_and_one_database_per_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let runs = RunResources::default();
        let (a, _) = runs.push_job(&inputs(dir.path(), Some(1))).expect("job");
        let (b, _) = runs.pull_job(&inputs(dir.path(), Some(1))).expect("job");
        let (c, _) = runs.push_job(&inputs(dir.path(), Some(2))).expect("job");
        assert!(Arc::ptr_eq(&a.pacer, &b.pacer), "push and pull of one portal share a pacer");
        assert!(!Arc::ptr_eq(&a.pacer, &c.pacer), "another portal has its own");
        assert!(Arc::ptr_eq(&a.store, &b.store), "the folder's database is opened once");
        assert_eq!(a.pacer.limit(), 100, "a private app's limit");
    }
}
