//! The pull run (HubSpot → Didomi) on the push's run machinery: the run is a row of the push's
//! history database (direction `pull`) with per-record failures, conflicts and skips; progress
//! uses [`SyncProgress`]; HubSpot calls go through the portal's shared [`Pacer`] (which follows
//! the rate-limit headers of every answer) plus a search pacer (5 searches/s per account);
//! transient failures (429, 5xx, dropped connections, malformed answers) are retried with
//! backoff; a cancel stops after the page in flight. Below the daily reserve of a private app
//! (`Daily-Remaining`) the pull stops like the push, as [`ErrorCode::HubSpotDailyLimit`]; the
//! next pull walks the same window again, which is its resume.
//!
//! Steps: contacts whose last pull failed are read again first (batch read by email), then
//! the [`ChangedFinder`] walks the contacts modified since the watermark; a contact is handled
//! when its counter is above the last one handled. For each page: the Didomi users of the
//! emails (concurrently), [`decide`], events of at most 100 with ids
//! `hs-pull-<portal>-<contact>-<counter>` (a retried pull re-sends the same ids and Didomi's
//! 409 tells they are in: counted as written, never written twice), then the state: the
//! counter, the agreed values, and — when HubSpot now holds exactly Didomi's mapped values —
//! the push's fingerprint, so a push right after writes nothing back (no echo).
//!
//! The watermark moves only when a walk ends (minus [`PullConfig::lag`] for HubSpot's search
//! indexing delay); after a crash or a cancel the next pull walks the same window again and
//! skips what it handled (counters), which is the resume.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::didomi::consents::ConsentUser;
use crate::didomi::events::{
    app_delegate, ConsentEvent, EventConsents, EventUser, EventWriter, MAX_EVENTS,
};
use crate::didomi::DidomiClient;
use crate::error::{Error, ErrorCode};
use crate::hubspot::search::{ChangedFinder, SearchRecord};
use crate::hubspot::HubSpotClient;
use crate::mapping::Mapping;
use crate::pull::decode::{
    decide, echoes_push, Conflict, ConflictWinner, Decision, LastSync, PreferenceBook,
};
use crate::pull::state::{FailedContact, Handled};
use crate::pull::PullSettings;
use crate::push::values::{compute, fingerprint, normalize_email, Labels, Values};
use crate::run::daily::{daily_limit_error, DailyGuard};
use crate::run::dto::{
    RecordAction, RecordOutcome, RecordStatus, RunCounts, RunMode, RunReport, RunStatus,
    SampleChanges, SyncDirection, SyncProgress,
};
use crate::run::retry::{HubSpotStep, HubSpotTally};
use crate::run::store::{ContactState, Outcome, Recorded, Store};
use crate::run::Pacer;

/// Progress callback.
pub type ProgressFn = Arc<dyn Fn(SyncProgress) + Send + Sync>;

/// Tunables of the pull.
#[derive(Debug, Clone)]
pub struct PullConfig {
    /// Search page size (≤ 200).
    pub search_limit: u32,
    /// Searches per [`PullConfig::search_window`] (HubSpot allows 5 per second per account).
    pub searches_per_s: u32,
    /// The search limit's window (1 s; tests shorten it with the simulator's time scale).
    pub search_window: Duration,
    /// How far behind the last seen modification the next pull starts (search indexing lag).
    pub lag: Duration,
    /// Attempts per call on transient failures.
    pub max_attempts: u32,
    /// First backoff.
    pub backoff_base: Duration,
    /// Largest backoff.
    pub backoff_max: Duration,
    /// Didomi user reads in flight (`/consents/users` has no rate limit; only contacts that
    /// are not the echo of the push are read).
    pub didomi_concurrency: usize,
    /// Language of preference value labels.
    pub lang: String,
    /// Least time between progress updates.
    pub progress_interval: Duration,
    /// Samples kept in a dry-run plan.
    pub samples: usize,
}

impl Default for PullConfig {
    fn default() -> Self {
        Self {
            search_limit: 200,
            searches_per_s: 4,
            search_window: Duration::from_secs(1),
            lag: Duration::from_secs(300),
            max_attempts: 6,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            didomi_concurrency: 32,
            lang: "en".into(),
            progress_interval: Duration::from_millis(100),
            samples: 20,
        }
    }
}

impl PullConfig {
    /// The retry policy of this configuration.
    pub fn retry(&self) -> crate::run::retry::Backoff {
        crate::run::retry::Backoff {
            max_attempts: self.max_attempts,
            base: self.backoff_base,
            max: self.backoff_max,
        }
    }

    /// The search pacer these settings ask for.
    pub fn search_pacer(&self) -> Pacer {
        Pacer::new(self.searches_per_s.max(1), self.search_window, self.search_window / 20)
    }

    /// The same settings for a simulator whose windows are divided by `time_scale`.
    pub fn scaled(mut self, time_scale: f64) -> Self {
        if time_scale.is_finite() && time_scale > 0.0 {
            self.search_window = self.search_window.div_f64(time_scale);
        }
        self
    }
}

/// Everything a pull needs.
#[derive(Debug)]
pub struct PullJob {
    /// HubSpot.
    pub hubspot: Arc<HubSpotClient>,
    /// Didomi (config reads).
    pub didomi: Arc<DidomiClient>,
    /// Didomi (user reads, events).
    pub events: EventWriter,
    /// The state and history database (the pull's state is [`Store::pull`]).
    pub store: Arc<Store>,
    /// The portal's shared pacer.
    pub pacer: Arc<Pacer>,
    /// The portal's search pacer.
    pub search_pacer: Arc<Pacer>,
    /// The mapping.
    pub mapping: Mapping,
    /// The counter property ("Didomi Changed").
    pub counter_property: String,
    /// The pull settings.
    pub settings: PullSettings,
    /// Scope key shared with the push (`<hubspot base>|<portal>|<org>`).
    pub scope: String,
    /// Portal id (event ids).
    pub portal: String,
}

/// What a dry run would do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PullPlan {
    /// Contacts whose Didomi user would get an event.
    pub to_write: u64,
    /// Contacts already equal on both sides.
    pub unchanged: u64,
    /// Items where both sides changed.
    pub conflicts: u64,
    /// Contacts with values that cannot be read.
    pub invalid: u64,
    /// A few contacts with their changes (Didomi before → HubSpot after).
    pub samples: Vec<SampleChanges>,
}

/// The result of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PullReport {
    /// The run as the history has it.
    pub run: RunReport,
    /// Every conflict of the run.
    pub conflicts: Vec<Conflict>,
    /// The plan (dry runs).
    pub plan: Option<PullPlan>,
    /// Searches sent.
    #[ts(type = "number")]
    pub searches: u64,
}

struct Run {
    job: PullJob,
    cfg: PullConfig,
    dry_run: bool,
    run_id: i64,
    on_progress: ProgressFn,
    started: Instant,
    last_progress: Option<Instant>,
    counts: RunCounts,
    records: Vec<RecordOutcome>,
    conflicts: Vec<Conflict>,
    plan: PullPlan,
    processed: HashSet<String>,
    book: PreferenceBook,
    labels: Labels,
    properties: Vec<String>,
    searches: u64,
    daily: DailyGuard,
    /// A run of one: the normalized email of the only contact to pull.
    only: Option<String>,
}

/// A contact of a page that the pull decides for: its record, the counter it carries, its
/// normalized email and the values the last pull agreed on (the pull's own baseline).
struct Candidate {
    rec: SearchRecord,
    counter: i64,
    email: String,
    pulled_baseline: Option<Values>,
}

impl Candidate {
    /// Handled at its counter, the stored baseline kept.
    fn handled(&self) -> Handled {
        Handled::keeping_baseline(&self.rec.id, &self.email, self.counter)
    }
}

/// What becomes of a contact whose counter rose (or that is retried).
enum Selected {
    /// Decided against its Didomi user.
    Decide(Candidate),
    /// Handled at once: no mapped value in HubSpot (no opinion), or no valid email.
    Done(Handled),
}

/// The Didomi users read for a candidate, by the OUID the push saw (or the email).
struct UserRead {
    ouid: String,
    users: Result<Vec<ConsentUser>, Error>,
}

/// The event written for the candidate at index `contact` of its page.
struct PageEvent {
    contact: usize,
    event: ConsentEvent,
}

/// A page's candidates past the echo check, and what the pull makes of each.
struct PageWork {
    candidates: Vec<Candidate>,
    /// The push's state of their emails.
    push_state: HashMap<String, ContactState>,
    /// Per candidate: its decision; `None` when nothing is recorded for it (its Didomi read
    /// failed or was cut short, or a HubSpot value cannot be read).
    decisions: Vec<Option<Decision>>,
    events: Vec<PageEvent>,
    /// Contacts that failed (retried first by the next pull).
    failed: Vec<FailedContact>,
}

/// What the push's state records for a contact the pull looked at: the values HubSpot holds
/// after the pull, as the push would write them, and their fingerprint.
struct PushRecord {
    email: String,
    hash: i64,
    hubspot_id: String,
    values: Values,
}

impl PushRecord {
    fn recorded(&self, outcome: Outcome) -> Recorded<'_> {
        Recorded {
            written: Some(&self.values),
            ..Recorded::new(&self.email, outcome, self.hash, Some(&self.hubspot_id))
        }
    }
}

/// How a run ends in the history.
struct Ending {
    status: RunStatus,
    message: Option<String>,
    /// The error returned to the caller (the run is then `Failed`).
    error: Option<Error>,
}

/// Runs a pull (or its dry run). The run is recorded in the history whatever happens.
///
/// # Errors
/// [`ErrorCode::SyncStateUnavailable`]; HubSpot/Didomi codes when a service kept failing or
/// refused the credentials (the run is then `Failed` in the history).
pub async fn pull(
    job: PullJob,
    dry_run: bool,
    cfg: PullConfig,
    on_progress: ProgressFn,
    cancel: CancellationToken,
) -> Result<PullReport, Error> {
    pull_from(job, dry_run, cfg, on_progress, cancel, None).await
}

/// [`pull`] of one contact, by its normalized email (read with one batch read, handled whatever
/// its counter, as a contact whose last pull failed is): a run of one, under the same lock,
/// pacers, rules and history as every pull. The watermark does not move.
///
/// # Errors
/// As [`pull`].
pub async fn pull_only(
    job: PullJob,
    email: String,
    dry_run: bool,
    cfg: PullConfig,
    on_progress: ProgressFn,
    cancel: CancellationToken,
) -> Result<PullReport, Error> {
    pull_from(job, dry_run, cfg, on_progress, cancel, Some(email)).await
}

async fn pull_from(
    job: PullJob,
    dry_run: bool,
    cfg: PullConfig,
    on_progress: ProgressFn,
    cancel: CancellationToken,
    only: Option<String>,
) -> Result<PullReport, Error> {
    let job = with_retry(job, &cfg);
    let store = job.store.clone();
    // One run at a time per data folder, across processes; only then are runs left `Running`
    // known to be dead.
    let _lock = store.lock_run("pull")?;
    store.mark_interrupted()?;
    store.ensure_scope(&job.scope)?;
    let run_id =
        store.begin_run(SyncDirection::Pull, RunMode::Incremental, dry_run, &now_rfc3339())?;
    let mut run = Run::new(job, cfg, dry_run, run_id, on_progress, only);
    let outcome = run.execute(&cancel).await;
    run.finish(outcome, &cancel)
}

/// The job with the run's one retry policy on every Didomi call (session included).
fn with_retry(mut job: PullJob, cfg: &PullConfig) -> PullJob {
    job.didomi = Arc::new((*job.didomi).clone().with_retry(cfg.retry()));
    job.events = job.events.with_retry(cfg.retry());
    job.didomi.session().set_retry(cfg.retry());
    job
}

/// The mapped HubSpot properties, each once, in mapping order.
fn mapped_properties(mapping: &Mapping) -> Vec<String> {
    let mut properties: Vec<String> = Vec::new();
    for e in &mapping.entries {
        if !properties.contains(&e.property) {
            properties.push(e.property.clone());
        }
    }
    properties
}

/// The "Didomi Changed" counter a record carries (`0` without one).
fn counter_of(rec: &SearchRecord, counter_property: &str) -> i64 {
    rec.value(counter_property).and_then(|v| v.trim().parse::<f64>().ok()).map_or(0, |v| v as i64)
}

impl Run {
    fn new(
        job: PullJob,
        cfg: PullConfig,
        dry_run: bool,
        run_id: i64,
        on_progress: ProgressFn,
        only: Option<String>,
    ) -> Self {
        let properties = mapped_properties(&job.mapping);
        Run {
            job,
            cfg,
            dry_run,
            run_id,
            on_progress,
            started: Instant::now(),
            last_progress: None,
            counts: RunCounts::default(),
            records: Vec::new(),
            conflicts: Vec::new(),
            plan: PullPlan::default(),
            processed: HashSet::new(),
            book: PreferenceBook::default(),
            labels: Labels::default(),
            properties,
            searches: 0,
            daily: DailyGuard::new(SyncDirection::Pull),
            only,
        }
    }

    /// Records how the run ended and reports it.
    fn finish(
        mut self,
        outcome: Result<(), Error>,
        cancel: &CancellationToken,
    ) -> Result<PullReport, Error> {
        let duration = self.started.elapsed().as_millis() as u64;
        // A call cut short by the cancel ends in an error: the run was cancelled, not failed.
        let outcome = if cancel.is_cancelled() { outcome.or(Ok(())) } else { outcome };
        let end = self.ending(outcome, cancel.is_cancelled());
        let store = self.job.store.clone();
        store.add_records(self.run_id, &std::mem::take(&mut self.records))?;
        let message = end.message.as_deref();
        store.finish_run(
            self.run_id,
            end.status,
            &self.counts,
            message,
            &now_rfc3339(),
            duration,
        )?;
        self.emit("finishing", true);
        if let Some(e) = end.error {
            return Err(e);
        }
        let summary = store.run(self.run_id)?.ok_or_else(|| {
            Error::new(ErrorCode::Internal, "The run vanished from the history database.")
        })?;
        Ok(PullReport {
            run: RunReport { summary, plan: None },
            conflicts: self.conflicts,
            plan: self.dry_run.then_some(self.plan),
            searches: self.searches,
        })
    }

    fn ending(&self, outcome: Result<(), Error>, cancelled: bool) -> Ending {
        let (status, message, error) = match outcome {
            Ok(()) if cancelled => (
                RunStatus::Cancelled,
                Some("Cancelled: what was written stays written; the next pull picks up the rest.".to_owned()),
                None,
            ),
            Ok(()) if self.counts.failed > 0 => (
                RunStatus::Partial,
                Some(format!(
                    "{} contact(s) could not be written to Didomi; see the failures. The next pull retries them first.",
                    self.counts.failed
                )),
                None,
            ),
            Ok(()) => (
                RunStatus::Succeeded,
                (!self.conflicts.is_empty()).then(|| {
                    format!("{} conflict(s): both sides changed the same item; see the records.", self.conflicts.len())
                }),
                None,
            ),
            Err(e) => (RunStatus::Failed, Some(e.message.clone()), Some(e)),
        };
        Ending { status, message, error }
    }

    async fn execute(&mut self, cancel: &CancellationToken) -> Result<(), Error> {
        self.daily.at_start(&self.job.hubspot).await?;
        let didomi = self.job.didomi.clone();
        let prefs = self.didomi_call(cancel, || didomi.list_preferences()).await?;
        self.book = PreferenceBook::new(&prefs, &self.cfg.lang);
        self.labels = Labels::from_preferences(&prefs, &self.cfg.lang);
        self.emit("reading", true);
        self.read_failed_first(cancel).await?;
        if self.only.is_some() || cancel.is_cancelled() {
            return Ok(());
        }
        self.walk_changed(cancel).await
    }

    /// 1. Contacts whose last pull failed (for a run of one: that contact alone).
    async fn read_failed_first(&mut self, cancel: &CancellationToken) -> Result<(), Error> {
        let failed = match &self.only {
            Some(email) => vec![email.clone()],
            None => self.job.store.pull().failed_emails(10_000)?,
        };
        for chunk in failed.chunks(crate::hubspot::contacts::MAX_BATCH) {
            if cancel.is_cancelled() {
                return Ok(());
            }
            let recs = self.read_by_email(chunk, cancel).await?;
            self.handle(recs, true, cancel).await?;
        }
        Ok(())
    }

    /// The contacts of `emails`, with the mapped properties, the counter and the email.
    async fn read_by_email(
        &self,
        emails: &[String],
        cancel: &CancellationToken,
    ) -> Result<Vec<SearchRecord>, Error> {
        let emails = emails.to_vec();
        // The email too: a batch read returns only the properties asked for, and a contact
        // without its email cannot be matched to a Didomi user.
        let mut props = self.properties.clone();
        props.push(self.job.counter_property.clone());
        props.push("email".to_owned());
        let hubspot = self.job.hubspot.clone();
        let resp = self
            .hubspot_call(cancel, false, || hubspot.contacts_read_by_email(&emails, &props))
            .await?;
        Ok(resp
            .results
            .into_iter()
            .map(|r| SearchRecord { id: r.id, properties: r.properties, updated_at: None })
            .collect())
    }

    /// 2. The walk from the watermark, which moves when the walk ends.
    async fn walk_changed(&mut self, cancel: &CancellationToken) -> Result<(), Error> {
        let since = self.job.store.pull().watermark()?;
        let mut finder = ChangedFinder::new(
            &self.job.counter_property,
            &self.properties,
            since,
            self.cfg.search_limit,
        );
        while let Some(req) = finder.next_request() {
            if cancel.is_cancelled() {
                return Ok(());
            }
            let hubspot = self.job.hubspot.clone();
            let page = self.hubspot_call(cancel, true, || hubspot.contacts_search(&req)).await?;
            self.searches += 1;
            let fresh = finder.accept(page);
            self.handle(fresh, false, cancel).await?;
            self.emit("reading", false);
        }
        if !self.dry_run && finder.done() && !cancel.is_cancelled() {
            if let Some(max) = finder.max_modified_ms() {
                let lag = self.cfg.lag.as_millis() as i64;
                self.job.store.pull().advance_watermark(max - lag)?;
            }
        }
        Ok(())
    }

    /// Handles one page of contacts: selects those to look at, drops the echoes of the push,
    /// reads their Didomi users, decides, writes the events and records the state.
    async fn handle(
        &mut self,
        recs: Vec<SearchRecord>,
        retrying: bool,
        cancel: &CancellationToken,
    ) -> Result<(), Error> {
        let candidates = self.select(recs, retrying)?;
        if candidates.is_empty() {
            return Ok(());
        }
        let emails: Vec<&str> = candidates.iter().map(|c| c.email.as_str()).collect();
        let push_state = self.job.store.states(&emails)?;
        let candidates = self.drop_echoes(candidates, &push_state)?;
        if candidates.is_empty() {
            return Ok(());
        }
        let reads = self.read_users(&candidates, &push_state, cancel).await;
        let mut page = PageWork {
            candidates,
            push_state,
            decisions: Vec::new(),
            events: Vec::new(),
            failed: Vec::new(),
        };
        self.decide_page(&mut page, reads, cancel)?;
        if self.dry_run {
            self.emit("reading", false);
            return Ok(());
        }
        self.emit("writing", false);
        let written = self.write_page(&mut page, cancel).await?;
        self.record_page(&page, &written)?;
        if !self.records.is_empty() {
            self.job.store.add_records(self.run_id, &std::mem::take(&mut self.records))?;
        }
        self.job.store.save_counts(self.run_id, &self.counts)?;
        self.emit("writing", false);
        Ok(())
    }

    /// The records of a page to decide for: their counter rose since the last one handled, or
    /// they are retried. Those with nothing to decide are recorded as handled at once.
    fn select(&mut self, recs: Vec<SearchRecord>, retrying: bool) -> Result<Vec<Candidate>, Error> {
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        let mut known = self.job.store.pull().contacts(&ids)?;
        let mut todo = Vec::new();
        let mut quick = Vec::new();
        for rec in recs {
            if self.processed.contains(&rec.id) {
                continue;
            }
            let counter = counter_of(&rec, &self.job.counter_property);
            let last = known.get(&rec.id);
            let rose = counter > last.map_or(0, |k| k.counter);
            if !(rose || retrying || last.is_some_and(|k| k.failed)) {
                continue;
            }
            self.processed.insert(rec.id.clone());
            self.counts.read += 1;
            let pulled_baseline = known.remove(&rec.id).and_then(|k| k.baseline);
            match self.selected(rec, counter, pulled_baseline) {
                Selected::Decide(c) => todo.push(c),
                Selected::Done(h) => quick.push(h),
            }
        }
        if !self.dry_run && !quick.is_empty() {
            self.job.store.pull().record_done(&quick)?;
        }
        Ok(todo)
    }

    fn selected(
        &mut self,
        rec: SearchRecord,
        counter: i64,
        pulled_baseline: Option<Values>,
    ) -> Selected {
        let has_values = self.properties.iter().any(|p| rec.value(p).is_some());
        match normalize_email(rec.value("email")) {
            Ok(email) if !has_values => {
                // No mapped value in HubSpot: no opinion, nothing to compare or write.
                self.counts.unchanged += 1;
                self.plan.unchanged += 1;
                Selected::Done(Handled::keeping_baseline(&rec.id, &email, counter))
            }
            Ok(email) => Selected::Decide(Candidate { rec, counter, email, pulled_baseline }),
            Err(why) => {
                self.counts.invalid += 1;
                self.records.push(outcome(
                    rec.value("email").unwrap_or(&rec.id),
                    RecordAction::Invalid,
                    RecordStatus::Skipped,
                    Some("INVALID_EMAIL"),
                    format!(
                        "HubSpot contact {}: {why}; it cannot be matched to a Didomi user",
                        rec.id
                    ),
                ));
                Selected::Done(Handled::keeping_baseline(&rec.id, "", counter))
            }
        }
    }

    /// The echo of the push's own writes: nothing to read in Didomi, nothing to write; recorded
    /// as handled. Returns the others.
    fn drop_echoes(
        &mut self,
        candidates: Vec<Candidate>,
        push_state: &HashMap<String, ContactState>,
    ) -> Result<Vec<Candidate>, Error> {
        let (echoes, todo): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|c| {
            push_state.get(c.email.as_str()).is_some_and(|s| {
                let last = LastSync { baseline: s.written.clone(), hash: s.hash };
                echoes_push(&c.rec.properties, &self.job.mapping, &last)
            })
        });
        self.counts.unchanged += echoes.len() as u64;
        self.plan.unchanged += echoes.len() as u64;
        if !self.dry_run && !echoes.is_empty() {
            let done: Vec<_> = echoes.iter().map(Candidate::handled).collect();
            self.job.store.pull().record_done(&done)?;
        }
        Ok(todo)
    }

    /// The Didomi users of the candidates, read concurrently, in order.
    async fn read_users(
        &self,
        candidates: &[Candidate],
        push_state: &HashMap<String, ContactState>,
        cancel: &CancellationToken,
    ) -> Vec<UserRead> {
        let lookups: Vec<String> = candidates
            .iter()
            .map(|c| {
                push_state
                    .get(&c.email)
                    .and_then(|s| s.ouid.clone())
                    .unwrap_or_else(|| c.email.clone())
            })
            .collect();
        let (writer, cfg) = (self.job.events.clone(), self.cfg.clone());
        stream::iter(lookups)
            .map(|ouid| {
                let (writer, cfg, cancel) = (writer.clone(), cfg.clone(), cancel.clone());
                async move {
                    let users = didomi_retry(&cfg, &cancel, || writer.users_by_ouid(&ouid)).await;
                    UserRead { ouid, users }
                }
            })
            .buffered(self.cfg.didomi_concurrency.max(1))
            .collect::<Vec<_>>()
            .await
    }

    /// Decides each candidate of `page` against its Didomi users (`reads`, in order) and plans
    /// its event.
    fn decide_page(
        &mut self,
        page: &mut PageWork,
        reads: Vec<UserRead>,
        cancel: &CancellationToken,
    ) -> Result<(), Error> {
        for (i, read) in reads.into_iter().enumerate() {
            let c = &page.candidates[i];
            let Some(users) = self.users_of(c, read.users, cancel, &mut page.failed)? else {
                page.decisions.push(None);
                continue;
            };
            let d = self.decide_one(c, users, page.push_state.get(c.email.as_str()));
            let Some(d) = self.review(c, d)? else {
                page.decisions.push(None);
                continue;
            };
            if let Some(event) = self.plan_event(c, &read.ouid, &d) {
                page.events.push(PageEvent { contact: i, event });
            }
            page.decisions.push(Some(d));
        }
        Ok(())
    }

    /// The users read for `c`; `None` when it is left for later: its read failed (retried first
    /// next time) or was cut short by the cancel (the walk from the same watermark finds it
    /// again, its counter unchanged).
    fn users_of(
        &mut self,
        c: &Candidate,
        read: Result<Vec<ConsentUser>, Error>,
        cancel: &CancellationToken,
        failed: &mut Vec<FailedContact>,
    ) -> Result<Option<Vec<ConsentUser>>, Error> {
        match read {
            Ok(users) => Ok(Some(users)),
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::DidomiBadCredentials | ErrorCode::DidomiWrongOrganization
                ) =>
            {
                Err(e)
            }
            Err(_) if cancel.is_cancelled() => Ok(None),
            Err(e) => {
                let why = format!("Didomi could not be read: {}", e.message.trim_end_matches('.'));
                self.fail(&c.rec, &c.email, &why, failed);
                Ok(None)
            }
        }
    }

    /// [`decide`] for one candidate: the newest of its `users` owns the email (the push's rule).
    fn decide_one(
        &self,
        c: &Candidate,
        users: Vec<ConsentUser>,
        push: Option<&ContactState>,
    ) -> Decision {
        let user: Option<ConsentUser> =
            users.into_iter().max_by(|a, b| a.updated_at.cmp(&b.updated_at));
        // What the push last wrote is what both sides last agreed on; a pull's own baseline
        // counts when the push has none (a contact the pull brought in sync).
        let last = LastSync {
            baseline: push.and_then(|s| s.written.clone()).or_else(|| c.pulled_baseline.clone()),
            hash: push.and_then(|s| s.hash),
        };
        decide(
            &c.email,
            &c.rec.properties,
            user.as_ref(),
            &self.job.mapping,
            &self.book,
            &self.labels,
            &last,
            self.job.settings.conflict_winner,
        )
    }

    /// Lists the decision's conflicts; a decision with values that cannot be read is the
    /// record's failure (`None`), its counter handled so it is pulled again when it rises.
    fn review(&mut self, c: &Candidate, d: Decision) -> Result<Option<Decision>, Error> {
        for conflict in &d.conflicts {
            self.records.push(conflict_record(&c.email, conflict));
        }
        self.conflicts.extend(d.conflicts.iter().cloned());
        self.plan.conflicts += d.conflicts.len() as u64;
        if d.errors.is_empty() {
            return Ok(Some(d));
        }
        self.counts.invalid += 1;
        self.plan.invalid += 1;
        self.records.push(outcome(
            &c.email,
            RecordAction::Invalid,
            RecordStatus::Failed,
            Some("UNKNOWN_VALUE"),
            format!(
                "HubSpot contact {}: {}. Nothing was written for this contact; fix the value in HubSpot (or the mapping's encoding) and it is pulled again when Didomi Changed rises.",
                c.rec.id,
                d.errors.join("; ")
            ),
        ));
        if !self.dry_run {
            self.job.store.pull().record_done(&[c.handled()])?;
        }
        Ok(None)
    }

    /// Counts the decision and returns its event when it writes something.
    fn plan_event(&mut self, c: &Candidate, ouid: &str, d: &Decision) -> Option<ConsentEvent> {
        if d.purposes.is_empty() && !d.conflicts.is_empty() {
            // Only conflicts, Didomi kept: listed as skipped records.
            self.counts.skipped += 1;
            return None;
        }
        if d.purposes.is_empty() {
            self.counts.unchanged += 1;
            self.plan.unchanged += 1;
            return None;
        }
        self.counts.to_write += 1;
        self.plan.to_write += 1;
        if self.plan.samples.len() < self.cfg.samples {
            self.plan
                .samples
                .push(SampleChanges { email: c.email.clone(), changes: d.changes.clone() });
        }
        Some(ConsentEvent {
            id: format!("hs-pull-{}-{}-{}", self.job.portal, c.rec.id, c.counter),
            organization_id: self.job.events.organization_id().to_owned(),
            regulation: "gdpr".into(),
            user: EventUser { organization_user_id: ouid.to_owned() },
            consents: EventConsents { purposes: d.purposes.clone() },
            delegate: app_delegate(),
        })
    }

    /// Writes the page's events by batches; returns the indexes of the candidates whose event
    /// Didomi has (a per-event refusal is the contact's failure).
    async fn write_page(
        &mut self,
        page: &mut PageWork,
        cancel: &CancellationToken,
    ) -> Result<HashSet<usize>, Error> {
        let mut written: HashSet<usize> = HashSet::new();
        for chunk in page.events.chunks(MAX_EVENTS) {
            if cancel.is_cancelled() {
                break;
            }
            let batch: Vec<ConsentEvent> = chunk.iter().map(|e| e.event.clone()).collect();
            match self.write_events(&batch, cancel).await {
                Ok(()) => written.extend(chunk.iter().map(|e| e.contact)),
                Err(WriteError::Fatal(e)) => return Err(e),
                Err(WriteError::PerEvent(results)) => {
                    for (e, r) in chunk.iter().zip(results) {
                        match r {
                            Ok(()) => {
                                written.insert(e.contact);
                            }
                            Err(m) => {
                                let c = &page.candidates[e.contact];
                                self.fail(&c.rec, &c.email, &m, &mut page.failed);
                            }
                        }
                    }
                }
            }
        }
        Ok(written)
    }

    /// Records the page in the state: the pull's counters and baselines, the push's values
    /// (in sync, or stale so the next push rewrites the contact) and the failures.
    fn record_page(&mut self, page: &PageWork, written: &HashSet<usize>) -> Result<(), Error> {
        let mut done = Vec::new();
        let (mut synced, mut stale) = (Vec::new(), Vec::new());
        for (i, (c, d)) in page.candidates.iter().zip(&page.decisions).enumerate() {
            let Some(d) = d else { continue };
            let had_event = page.events.iter().any(|e| e.contact == i);
            if had_event && !written.contains(&i) {
                // Failed (retried first next time) or cancelled before its batch (the walk
                // from the unchanged watermark finds it again): the counter stays.
                continue;
            }
            if had_event {
                self.counts.written += 1;
                self.counts.updated += 1;
            }
            let after = compute(&d.after, &self.job.mapping, &self.labels);
            let in_sync = self.in_sync(c, d, &after);
            done.push(Handled { baseline: in_sync.then(|| after.clone()), ..c.handled() });
            let push = page.push_state.get(c.email.as_str());
            if in_sync {
                synced.push(self.synced(c, after, push));
            } else {
                stale.push(self.stale(c, push));
            }
        }
        self.job.store.pull().record_done(&done)?;
        let items: Vec<Recorded<'_>> = synced
            .iter()
            .map(|s| s.recorded(Outcome::Written))
            .chain(stale.iter().map(|s| s.recorded(Outcome::Stale)))
            .collect();
        self.job.store.record(&items)?;
        self.job.store.pull().record_failed(&page.failed)?;
        Ok(())
    }

    /// HubSpot holds exactly `after` for every mapped property (and nothing for the ones Didomi
    /// has no answer for: a value left there is the push's to clear).
    fn in_sync(&self, c: &Candidate, d: &Decision, after: &Values) -> bool {
        d.conflicts.iter().all(|c| c.winner == ConflictWinner::HubSpot)
            && self
                .job
                .mapping
                .entries
                .iter()
                .all(|e| after.contains_key(&e.property) || c.rec.value(&e.property).is_none())
            && after.iter().all(|(p, v)| {
                c.rec.value(p).is_some_and(|h| self.same_answer(&c.email, d, p, v, h))
            })
    }

    /// HubSpot's text `h` of property `p` says what `v` (Didomi's after the pull) says: deciding
    /// that one property against the user after the pull writes nothing.
    fn same_answer(&self, email: &str, d: &Decision, p: &str, v: &str, h: &str) -> bool {
        let one: Values = [(p.to_owned(), v.to_owned())].into();
        let last = LastSync { baseline: Some(one.clone()), hash: Some(fingerprint(&one)) };
        let mut hs = BTreeMap::new();
        hs.insert(p.to_owned(), Some(h.to_owned()));
        let single = Mapping {
            entries: self.job.mapping.entries.iter().filter(|e| e.property == p).cloned().collect(),
        };
        decide(
            email,
            &hs,
            Some(&d.after),
            &single,
            &self.book,
            &self.labels,
            &last,
            ConflictWinner::Didomi,
        )
        .purposes
        .is_empty()
    }

    /// The push's values of a contact in sync: `after`, plus the push's memory of rows unmapped
    /// since (see `push::engine`).
    fn synced(&self, c: &Candidate, after: Values, push: Option<&ContactState>) -> PushRecord {
        let hash = fingerprint(&after);
        let mut keeps = after;
        if let Some(w) = push.and_then(|s| s.written.as_ref()) {
            keeps.extend(
                w.iter()
                    .filter(|(k, v)| !self.properties.contains(k) && !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
        PushRecord { email: c.email.clone(), hash, hubspot_id: c.rec.id.clone(), values: keeps }
    }

    /// HubSpot keeps a value Didomi does not hold (a conflict Didomi won, or an answer Didomi
    /// does not have): the next push must rewrite this contact. The agreed baseline stays; the
    /// properties HubSpot holds beyond it join it as "" (no agreed answer) so that the push
    /// clears them when Didomi has no answer either.
    fn stale(&self, c: &Candidate, push: Option<&ContactState>) -> PushRecord {
        let mut base = push.and_then(|s| s.written.clone()).unwrap_or_default();
        for p in &self.properties {
            if c.rec.value(p).is_some() && !base.contains_key(p) {
                base.insert(p.clone(), String::new());
            }
        }
        let mapped: Values = base
            .iter()
            .filter(|(k, _)| self.properties.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        PushRecord {
            email: c.email.clone(),
            hash: fingerprint(&mapped),
            hubspot_id: c.rec.id.clone(),
            values: base,
        }
    }

    fn fail(
        &mut self,
        rec: &SearchRecord,
        email: &str,
        message: &str,
        failed: &mut Vec<FailedContact>,
    ) {
        self.counts.failed += 1;
        self.records.push(outcome(
            email,
            RecordAction::Update,
            RecordStatus::Failed,
            None,
            format!("HubSpot contact {}: {message}. The next pull retries it first.", rec.id),
        ));
        failed.push(FailedContact { hubspot_id: rec.id.clone(), email: email.to_owned() });
    }

    /// Sends one batch; on a 409 (an id already in Didomi: a retried pull) sends the events one
    /// by one, where a 409 means that event is already written.
    async fn write_events(
        &self,
        batch: &[ConsentEvent],
        cancel: &CancellationToken,
    ) -> Result<(), WriteError> {
        let disable = !self.job.settings.forward_to_integrations;
        let w = &self.job.events;
        match didomi_retry_raw(&self.cfg, cancel, || w.post_events(batch, disable)).await {
            Ok(()) => return Ok(()),
            Err(e) if is_conflict(&e) => {}
            Err(e) if batch.len() == 1 || is_fatal(&e) => {
                let e = Error::from(e);
                if is_fatal_code(&e) {
                    return Err(WriteError::Fatal(e));
                }
                return Err(WriteError::PerEvent(vec![Err(e.message)]));
            }
            Err(_) => {}
        }
        let mut out = Vec::with_capacity(batch.len());
        for ev in batch {
            let one = std::slice::from_ref(ev);
            out.push(
                match didomi_retry_raw(&self.cfg, cancel, || w.post_events(one, disable)).await {
                    Ok(()) => Ok(()),
                    Err(e) if is_conflict(&e) => Ok(()),
                    Err(e) if is_fatal(&e) => return Err(WriteError::Fatal(e.into())),
                    Err(e) => Err(format!("Didomi refused the event: {e}")),
                },
            );
        }
        Err(WriteError::PerEvent(out))
    }

    async fn hubspot_call<T, F, Fut>(
        &self,
        cancel: &CancellationToken,
        search: bool,
        mut call: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = crate::hubspot::Result<T>>,
    {
        let mut tally = HubSpotTally::default();
        let hubspot = &self.job.hubspot;
        loop {
            // Stop before the account's daily allowance runs out (private apps).
            self.daily.check(hubspot).await?;
            // Permits are held until the answer: a request's window starts when it is in.
            let search_permit =
                if search { Some(self.job.search_pacer.acquire().await) } else { None };
            let permit = self.job.pacer.acquire().await;
            let result = call().await;
            drop(permit);
            drop(search_permit);
            if let Some(s) = hubspot.rate_limits() {
                self.job.pacer.observe(&s);
            }
            let e = match result {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let pacer = if search { &self.job.search_pacer } else { &self.job.pacer };
            match tally.next(&e, pacer.window(), &self.cfg.retry()) {
                _ if cancel.is_cancelled() => return Err(e.into()),
                HubSpotStep::Pause(wait) => pacer.pause(wait).await,
                HubSpotStep::Retry(wait) => tokio::time::sleep(wait).await,
                HubSpotStep::DailyLimit => {
                    let left = hubspot.rate_limits().and_then(|s| s.daily).map(|d| (0, d));
                    return Err(daily_limit_error(left, None, SyncDirection::Pull));
                }
                HubSpotStep::GiveUp | HubSpotStep::Stop => return Err(e.into()),
            }
        }
    }

    async fn didomi_call<T, F, Fut>(&self, cancel: &CancellationToken, call: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = crate::didomi::Result<T>>,
    {
        didomi_retry(&self.cfg, cancel, call).await
    }

    fn emit(&mut self, phase: &str, force: bool) {
        let now = Instant::now();
        if !force
            && self
                .last_progress
                .is_some_and(|t| now.duration_since(t) < self.cfg.progress_interval)
        {
            return;
        }
        self.last_progress = Some(now);
        let elapsed = self.started.elapsed();
        let c = self.counts;
        let rate = c.read as f64 / elapsed.as_secs_f64().max(1e-3);
        (self.on_progress)(SyncProgress::from_counts(self.run_id, phase, &c, rate, None, elapsed));
    }
}

enum WriteError {
    Fatal(Error),
    PerEvent(Vec<Result<(), String>>),
}

/// Didomi already has an event id of the batch (a retried pull).
fn is_conflict(e: &crate::didomi::Error) -> bool {
    matches!(e, crate::didomi::Error::Api { status: 409, .. })
}

fn is_fatal(e: &crate::didomi::Error) -> bool {
    matches!(
        e,
        crate::didomi::Error::Api { status: 401 | 403, .. }
            | crate::didomi::Error::Keychain(_)
            | crate::didomi::Error::BadCredentials { .. }
    )
}

fn is_fatal_code(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::DidomiBadCredentials
            | ErrorCode::DidomiWrongOrganization
            | ErrorCode::KeychainUnavailable
    )
}

fn outcome(
    email: &str,
    action: RecordAction,
    status: RecordStatus,
    category: Option<&str>,
    message: String,
) -> RecordOutcome {
    RecordOutcome {
        email: email.to_owned(),
        action,
        status,
        category: category.map(str::to_owned),
        message,
        correlation_id: None,
    }
}

/// The skipped record listing a conflict of `email`.
fn conflict_record(email: &str, c: &Conflict) -> RecordOutcome {
    outcome(
        email,
        RecordAction::Skip,
        RecordStatus::Skipped,
        Some("CONFLICT"),
        format!(
            "Both sides changed {} since the last sync: HubSpot \"{}\", Didomi \"{}\"; {} wins (setting on the Workflow screen)",
            c.property,
            c.hubspot,
            c.didomi.as_deref().unwrap_or("no choice"),
            match c.winner {
                ConflictWinner::Didomi => "Didomi",
                ConflictWinner::HubSpot => "HubSpot",
            }
        ),
    )
}

/// Retries a Didomi call on transient failures (5xx, 429, transport, malformed).
async fn didomi_retry<T, F, Fut>(
    cfg: &PullConfig,
    cancel: &CancellationToken,
    call: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::didomi::Result<T>>,
{
    didomi_retry_raw(cfg, cancel, call).await.map_err(Error::from)
}

/// [`didomi_retry`] keeping Didomi's own error (to look at its status).
async fn didomi_retry_raw<T, F, Fut>(
    cfg: &PullConfig,
    cancel: &CancellationToken,
    call: F,
) -> Result<T, crate::didomi::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::didomi::Result<T>>,
{
    crate::run::retry::didomi_retry(&cfg.retry(), cancel, call).await
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
