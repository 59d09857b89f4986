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

use std::collections::{BTreeMap, HashSet};
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
use crate::sync::daily::{daily_limit_error, DailyGuard};
use crate::sync::dto::{
    PropertyChange, RecordAction, RecordOutcome, RecordStatus, RunCounts, RunMode, RunReport,
    RunStatus, SampleChanges, SyncDirection, SyncProgress,
};
use crate::sync::retry::{HubSpotStep, HubSpotTally};
use crate::sync::store::{Outcome, Recorded, Store};
use crate::sync::values::{compute, fingerprint, normalize_email, Labels};
use crate::sync::Pacer;

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
    pub fn retry(&self) -> crate::sync::retry::Backoff {
        crate::sync::retry::Backoff {
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
    let mut job = job;
    // The run's one retry policy for every Didomi call (session included).
    job.didomi = Arc::new((*job.didomi).clone().with_retry(cfg.retry()));
    job.events = job.events.with_retry(cfg.retry());
    job.didomi.session().set_retry(cfg.retry());
    let store = job.store.clone();
    // One run at a time per data folder, across processes; only then are runs left `Running`
    // known to be dead.
    let _lock = store.lock_run("pull")?;
    store.mark_interrupted()?;
    store.ensure_scope(&job.scope)?;
    let run_id =
        store.begin_run(SyncDirection::Pull, RunMode::Incremental, dry_run, &now_rfc3339())?;
    let mut properties: Vec<String> = Vec::new();
    for e in &job.mapping.entries {
        if !properties.contains(&e.property) {
            properties.push(e.property.clone());
        }
    }
    let mut run = Run {
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
    };
    let outcome = run.execute(&cancel).await;
    let duration = run.started.elapsed().as_millis() as u64;
    // A call cut short by the cancel ends in an error: the run was cancelled, not failed.
    let outcome = if cancel.is_cancelled() { outcome.or(Ok(())) } else { outcome };
    let (status, message, err) = match outcome {
        Ok(()) if cancel.is_cancelled() => (
            RunStatus::Cancelled,
            Some("Cancelled: what was written stays written; the next pull picks up the rest.".to_owned()),
            None,
        ),
        Ok(()) if run.counts.failed > 0 => (
            RunStatus::Partial,
            Some(format!(
                "{} contact(s) could not be written to Didomi; see the failures. The next pull retries them first.",
                run.counts.failed
            )),
            None,
        ),
        Ok(()) => (
            RunStatus::Succeeded,
            (!run.conflicts.is_empty()).then(|| {
                format!("{} conflict(s): both sides changed the same item; see the records.", run.conflicts.len())
            }),
            None,
        ),
        Err(e) => (RunStatus::Failed, Some(e.message.clone()), Some(e)),
    };
    store.add_records(run_id, &std::mem::take(&mut run.records))?;
    store.finish_run(run_id, status, &run.counts, message.as_deref(), &now_rfc3339(), duration)?;
    run.emit("finishing", true);
    if let Some(e) = err {
        return Err(e);
    }
    let summary = store.run(run_id)?.ok_or_else(|| {
        Error::new(ErrorCode::Internal, "The run vanished from the history database.")
    })?;
    Ok(PullReport {
        run: RunReport { summary, plan: None },
        conflicts: run.conflicts,
        plan: dry_run.then_some(run.plan),
        searches: run.searches,
    })
}

impl Run {
    async fn execute(&mut self, cancel: &CancellationToken) -> Result<(), Error> {
        self.daily.at_start(&self.job.hubspot).await?;
        let didomi = self.job.didomi.clone();
        let prefs = self.didomi_call(cancel, || didomi.list_preferences()).await?;
        self.book = PreferenceBook::new(&prefs, &self.cfg.lang);
        self.labels = Labels::from_preferences(&prefs, &self.cfg.lang);
        self.emit("reading", true);
        // 1. Contacts whose last pull failed (for a run of one: that contact alone).
        let failed = match &self.only {
            Some(email) => vec![email.clone()],
            None => self.job.store.pull().failed_emails(10_000)?,
        };
        for chunk in failed.chunks(crate::hubspot::contacts::MAX_BATCH) {
            if cancel.is_cancelled() {
                return Ok(());
            }
            let emails = chunk.to_vec();
            // The email too: a batch read returns only the properties asked for, and a contact
            // without its email cannot be matched to a Didomi user.
            let mut props = self.properties.clone();
            props.push(self.job.counter_property.clone());
            props.push("email".to_owned());
            let hubspot = self.job.hubspot.clone();
            let resp = self
                .hubspot_call(cancel, false, || hubspot.contacts_read_by_email(&emails, &props))
                .await?;
            let recs: Vec<SearchRecord> = resp
                .results
                .into_iter()
                .map(|r| SearchRecord { id: r.id, properties: r.properties, updated_at: None })
                .collect();
            self.handle(recs, true, cancel).await?;
        }
        if self.only.is_some() {
            return Ok(());
        }
        // 2. The walk from the watermark.
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

    /// Handles one page of contacts.
    async fn handle(
        &mut self,
        recs: Vec<SearchRecord>,
        retrying: bool,
        cancel: &CancellationToken,
    ) -> Result<(), Error> {
        let counter_prop = self.job.counter_property.clone();
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        let known = self.job.store.pull().contacts(&ids)?;
        let mut todo: Vec<(SearchRecord, i64, String)> = Vec::new();
        let mut quick: Vec<Handled> = Vec::new();
        for r in recs {
            if self.processed.contains(&r.id) {
                continue;
            }
            let counter = r
                .value(&counter_prop)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map_or(0, |v| v as i64);
            let last = known.get(&r.id);
            let rose = counter > last.map_or(0, |k| k.counter);
            if !(rose || retrying || last.is_some_and(|k| k.failed)) {
                continue;
            }
            self.processed.insert(r.id.clone());
            self.counts.read += 1;
            let has_values = self.properties.iter().any(|p| r.value(p).is_some());
            match normalize_email(r.value("email")) {
                Ok(email) if !has_values => {
                    // No mapped value in HubSpot: no opinion, nothing to compare or write.
                    self.counts.unchanged += 1;
                    self.plan.unchanged += 1;
                    quick.push(Handled::keeping_baseline(&r.id, &email, counter));
                }
                Ok(email) => todo.push((r, counter, email)),
                Err(why) => {
                    self.counts.invalid += 1;
                    self.records.push(outcome(
                        r.value("email").unwrap_or(&r.id),
                        RecordAction::Invalid,
                        RecordStatus::Skipped,
                        Some("INVALID_EMAIL"),
                        format!(
                            "HubSpot contact {}: {why}; it cannot be matched to a Didomi user",
                            r.id
                        ),
                    ));
                    quick.push(Handled::keeping_baseline(&r.id, "", counter));
                }
            }
        }
        if !self.dry_run && !quick.is_empty() {
            self.job.store.pull().record_done(&quick)?;
        }
        if todo.is_empty() {
            return Ok(());
        }
        let emails: Vec<&str> = todo.iter().map(|t| t.2.as_str()).collect();
        let push_state = self.job.store.states(&emails)?;
        // The echo of the push's own writes: nothing to read in Didomi, nothing to write.
        let (echoes, todo): (Vec<_>, Vec<_>) = todo.into_iter().partition(|(rec, _, email)| {
            push_state.get(email.as_str()).is_some_and(|s| {
                let last = LastSync { baseline: s.written.clone(), hash: s.hash };
                echoes_push(&rec.properties, &self.job.mapping, &last)
            })
        });
        self.counts.unchanged += echoes.len() as u64;
        self.plan.unchanged += echoes.len() as u64;
        if !self.dry_run && !echoes.is_empty() {
            let done: Vec<_> = echoes
                .into_iter()
                .map(|(rec, counter, email)| Handled::keeping_baseline(&rec.id, &email, counter))
                .collect();
            self.job.store.pull().record_done(&done)?;
        }
        if todo.is_empty() {
            return Ok(());
        }
        // Didomi users, concurrently.
        let lookups: Vec<String> = todo
            .iter()
            .map(|t| {
                push_state.get(&t.2).and_then(|s| s.ouid.clone()).unwrap_or_else(|| t.2.clone())
            })
            .collect();
        let users = {
            let writer = self.job.events.clone();
            let cfg = self.cfg.clone();
            let cancel = cancel.clone();
            stream::iter(lookups.iter().cloned())
                .map(|ouid| {
                    let writer = writer.clone();
                    let cfg = cfg.clone();
                    let cancel = cancel.clone();
                    async move {
                        let r = didomi_retry(&cfg, &cancel, || writer.users_by_ouid(&ouid)).await;
                        (ouid, r)
                    }
                })
                .buffered(self.cfg.didomi_concurrency.max(1))
                .collect::<Vec<_>>()
                .await
        };
        let mut events: Vec<(usize, ConsentEvent)> = Vec::new();
        let mut decisions: Vec<Option<Decision>> = Vec::new();
        let mut failed_now: Vec<FailedContact> = Vec::new();
        for (i, ((rec, counter, email), (ouid, user))) in todo.iter().zip(users).enumerate() {
            let users = match user {
                Ok(u) => u,
                Err(e)
                    if matches!(
                        e.code,
                        ErrorCode::DidomiBadCredentials | ErrorCode::DidomiWrongOrganization
                    ) =>
                {
                    return Err(e);
                }
                Err(_) if cancel.is_cancelled() => {
                    // Cut short by the cancel, not a failure: the contact's counter stays, so the
                    // next pull's walk (from the same watermark) finds it again.
                    decisions.push(None);
                    continue;
                }
                Err(e) => {
                    self.fail(
                        rec,
                        email,
                        &format!("Didomi could not be read: {}", e.message.trim_end_matches('.')),
                        &mut failed_now,
                    );
                    decisions.push(None);
                    continue;
                }
            };
            // The newest user owns the email (the push's rule).
            let user: Option<ConsentUser> =
                users.into_iter().max_by(|a, b| a.updated_at.cmp(&b.updated_at));
            let st = push_state.get(email.as_str());
            let known_c = self.job.store.pull().contacts(&[rec.id.as_str()])?;
            // What the push last wrote is what both sides last agreed on; a pull's own baseline
            // counts when the push has none (a contact the pull brought in sync).
            let last = LastSync {
                baseline: st
                    .and_then(|s| s.written.clone())
                    .or_else(|| known_c.get(&rec.id).and_then(|k| k.baseline.clone())),
                hash: st.and_then(|s| s.hash),
            };
            let d = decide(
                email,
                &rec.properties,
                user.as_ref(),
                &self.job.mapping,
                &self.book,
                &self.labels,
                &last,
                self.job.settings.conflict_winner,
            );
            for c in &d.conflicts {
                self.records.push(outcome(
                    email,
                    RecordAction::Skip,
                    RecordStatus::Skipped,
                    Some("CONFLICT"),
                    format!(
                        "Both sides changed {} since the last sync: HubSpot \"{}\", Didomi \"{}\"; {} wins (setting on the Workflow screen)",
                        c.property,
                        c.hubspot,
                        c.didomi.as_deref().unwrap_or("no choice"),
                        match c.winner { ConflictWinner::Didomi => "Didomi", ConflictWinner::HubSpot => "HubSpot" }
                    ),
                ));
            }
            self.conflicts.extend(d.conflicts.iter().cloned());
            self.plan.conflicts += d.conflicts.len() as u64;
            if !d.errors.is_empty() {
                self.counts.invalid += 1;
                self.plan.invalid += 1;
                self.records.push(outcome(
                    email,
                    RecordAction::Invalid,
                    RecordStatus::Failed,
                    Some("UNKNOWN_VALUE"),
                    format!(
                        "HubSpot contact {}: {}. Nothing was written for this contact; fix the value in HubSpot (or the mapping's encoding) and it is pulled again when Didomi Changed rises.",
                        rec.id,
                        d.errors.join("; ")
                    ),
                ));
                decisions.push(None);
                if !self.dry_run {
                    self.job
                        .store
                        .pull()
                        .record_done(&[Handled::keeping_baseline(&rec.id, email, *counter)])?;
                }
                continue;
            }
            if d.purposes.is_empty() && !d.conflicts.is_empty() {
                // Only conflicts, Didomi kept: listed as skipped records.
                self.counts.skipped += 1;
            } else if d.purposes.is_empty() {
                self.counts.unchanged += 1;
                self.plan.unchanged += 1;
            } else {
                self.counts.to_write += 1;
                self.plan.to_write += 1;
                if self.plan.samples.len() < self.cfg.samples {
                    self.plan.samples.push(SampleChanges {
                        email: email.clone(),
                        changes: d
                            .changes
                            .iter()
                            .map(|(p, before, after)| PropertyChange {
                                property: p.clone(),
                                before: before.clone(),
                                after: Some(after.clone()),
                            })
                            .collect(),
                    });
                }
                events.push((
                    i,
                    ConsentEvent {
                        id: format!("hs-pull-{}-{}-{}", self.job.portal, rec.id, counter),
                        organization_id: self.job.events.organization_id().to_owned(),
                        regulation: "gdpr".into(),
                        user: EventUser { organization_user_id: ouid.clone() },
                        consents: EventConsents { purposes: d.purposes.clone() },
                        delegate: app_delegate(),
                    },
                ));
            }
            decisions.push(Some(d));
        }
        if self.dry_run {
            self.emit("reading", false);
            return Ok(());
        }
        // Write.
        self.emit("writing", false);
        let mut written: HashSet<usize> = HashSet::new();
        for chunk in events.chunks(MAX_EVENTS) {
            if cancel.is_cancelled() {
                break;
            }
            let batch: Vec<ConsentEvent> = chunk.iter().map(|(_, e)| e.clone()).collect();
            match self.write_events(&batch, cancel).await {
                Ok(()) => written.extend(chunk.iter().map(|(i, _)| *i)),
                Err(WriteError::Fatal(e)) => return Err(e),
                Err(WriteError::PerEvent(results)) => {
                    for ((i, _), r) in chunk.iter().zip(results) {
                        match r {
                            Ok(()) => {
                                written.insert(*i);
                            }
                            Err(m) => {
                                let (rec, _, email) = &todo[*i];
                                self.fail(rec, email, &m, &mut failed_now);
                            }
                        }
                    }
                }
            }
        }
        // State.
        let mut done = Vec::new();
        let mut synced = Vec::new();
        let mut stale = Vec::new();
        for (i, ((rec, counter, email), d)) in todo.iter().zip(decisions.iter()).enumerate() {
            let Some(d) = d else { continue };
            let had_event = events.iter().any(|(j, _)| *j == i);
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
            // In sync: HubSpot holds exactly `after` for every mapped property (and nothing for
            // the ones Didomi has no answer for: a value left there is the push's to clear).
            let in_sync = d.conflicts.iter().all(|c| c.winner == ConflictWinner::HubSpot)
                && self
                    .job
                    .mapping
                    .entries
                    .iter()
                    .all(|e| after.contains_key(&e.property) || rec.value(&e.property).is_none())
                && after.iter().all(|(p, v)| {
                    rec.value(p).is_some_and(|h| {
                        let one: crate::sync::values::Values = [(p.clone(), v.clone())].into();
                        let last =
                            LastSync { baseline: Some(one.clone()), hash: Some(fingerprint(&one)) };
                        let mut hs = BTreeMap::new();
                        hs.insert(p.clone(), Some(h.to_owned()));
                        let single = Mapping {
                            entries: self
                                .job
                                .mapping
                                .entries
                                .iter()
                                .filter(|e| &e.property == p)
                                .cloned()
                                .collect(),
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
                    })
                });
            done.push(Handled {
                baseline: in_sync.then(|| after.clone()),
                ..Handled::keeping_baseline(&rec.id, email, *counter)
            });
            if in_sync {
                // The push's memory of rows unmapped since stays (see `sync::engine`).
                let mut keeps = after.clone();
                if let Some(w) = push_state.get(email.as_str()).and_then(|s| s.written.as_ref()) {
                    keeps.extend(
                        w.iter()
                            .filter(|(k, v)| !self.properties.contains(k) && !v.is_empty())
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                }
                synced.push((email.clone(), fingerprint(&after), rec.id.clone(), keeps));
            } else {
                // HubSpot keeps a value Didomi does not hold (a conflict Didomi won, or an answer
                // Didomi does not have): the next push must rewrite this contact. The agreed
                // baseline stays; the properties HubSpot holds beyond it join it as "" (no agreed
                // answer) so that the push clears them when Didomi has no answer either.
                let mut base = push_state
                    .get(email.as_str())
                    .and_then(|s| s.written.clone())
                    .unwrap_or_default();
                for p in &self.properties {
                    if rec.value(p).is_some() && !base.contains_key(p) {
                        base.insert(p.clone(), String::new());
                    }
                }
                let mapped: crate::sync::values::Values = base
                    .iter()
                    .filter(|(k, _)| self.properties.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                stale.push((email.clone(), fingerprint(&mapped), rec.id.clone(), base));
            }
        }
        self.job.store.pull().record_done(&done)?;
        let items: Vec<Recorded<'_>> = synced
            .iter()
            .map(|s| (s, Outcome::Written))
            .chain(stale.iter().map(|s| (s, Outcome::Stale)))
            .map(|((e, h, id, values), outcome)| Recorded {
                written: Some(values),
                ..Recorded::new(e.as_str(), outcome, *h, Some(id.as_str()))
            })
            .collect();
        self.job.store.record(&items)?;
        self.job.store.pull().record_failed(&failed_now)?;
        if !self.records.is_empty() {
            self.job.store.add_records(self.run_id, &std::mem::take(&mut self.records))?;
        }
        self.job.store.save_counts(self.run_id, &self.counts)?;
        self.emit("writing", false);
        Ok(())
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
    crate::sync::retry::didomi_retry(&cfg.retry(), cancel, call).await
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
