//! The push engine: Didomi users → HubSpot contacts, streamed, batched, paced and resumable.
//!
//! Flow of one run:
//! 1. A reader task pages `GET /v1/consents/users` (100 a page) into a small channel (so reading
//!    and writing overlap and memory stays flat), 8 pages at once from the cursors the scan
//!    (step 2) saw, each page checked to chain as it did then (`read_listing`). People whose
//!    last write failed are fetched first by their `organization_user_id`, so they are retried
//!    first.
//! 2. Before that stream, a *scan* pages through every user once, reading only each user's id,
//!    email and change time ([`UserKey`]), and keeps, per normalized email, only a 40-byte key
//!    (sorted in chunks spilled to the data folder, `KeySorter`; the shared emails it finds
//!    and the cursor of each page are kept in the data folder too, `SharedEmails` and
//!    `CursorLog`, so the push's memory does not grow with the population): which user wins an email
//!    shared by several Didomi users (the newest `updated_at`; on an exact tie, the user whose
//!    id sorts last; see `rank`). So the winner of an email is known before anything is
//!    written for it, whatever the listing order, in every run and after a crash; losers are
//!    reported as duplicates and never written. A user changed after the scan read the listing
//!    (newer than anything the scan saw) is left to the next run. The writing pass checks each
//!    user against the scan (the rank of each email's only user is kept too): a user the scan
//!    did not see as it is now (Didomi's listing left it out, or it changed since) makes its
//!    email shared and wins it when it is newer (`Run::owner`).
//! 3. The winner's mapped values (packed while they wait, [`Packed`]), plus `""` for every property
//!    an earlier push wrote on the contact that the winner has no answer for (so a consent of
//!    another user, or a withdrawn one, never stays), and their fingerprint are computed and
//!    compared with the state: unchanged people cost nothing; changed people with a known HubSpot
//!    id go to the *update* queue (batch update by id), unknown ones to the *upsert* queue (batch
//!    upsert by email, upsert mode) or the *read* queue (batch read by email: finds the id, or
//!    skips the person when upsert is off). A full reconcile and a dry run send everyone through
//!    *read* and compare with HubSpot's current values. A write whose answer was never recorded
//!    (the app died) is verified by a read before anything is written again.
//! 4. Jobs of up to `batch_size` records run with bounded concurrency, every request through the
//!    shared [`Pacer`], which follows the rate-limit headers of every answer (the stated limit,
//!    other consumers of the window). 429 → pause the pacer and retry (never a record failure);
//!    5xx, timeouts, dropped connections and malformed answers → bounded exponential backoff
//!    with jitter, then each record of the batch fails; 207 → each input its own outcome; a batch
//!    rejected whole → split in halves until the bad records are isolated. Each job runs on the
//!    runtime's workers, beside the engine's thread; its body is written straight from the
//!    packed values, and a write's answer keeps only ids (not the values HubSpot echoes).
//! 5. A write batch is marked in the state database's journal before it is sent; outcomes are
//!    recorded 10,000 at a time in email order, each time in one transaction (and when the run
//!    ends, however it ends), which deletes the journal marks of the batches recorded: after a
//!    crash, the people of every batch whose outcome was not recorded are verified before
//!    anything is written again.
//!    Only people with an outcome cost a write; unchanged people cost none. Cancel stops reading
//!    and starting jobs, and waits for the jobs in flight.
//! 6. When HubSpot's `Daily-Remaining` (private apps) drops below the reserve
//!    ([`crate::hubspot::client::daily_reserve`]), no job starts any more: the run ends `Failed`
//!    with [`ErrorCode::HubSpotDailyLimit`], saying what is left and when HubSpot resets it; the
//!    next run picks up the rest.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesOrdered, FuturesUnordered, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::didomi::consents::{ConsentUser, UserKey};
use crate::didomi::DidomiClient;
use crate::error::{Error, ErrorCode};
use crate::hubspot::contacts::{error_keys, BatchResponse, WriteInput, WrittenRecord, MAX_BATCH};
use crate::hubspot::HubSpotClient;
use crate::mapping::{Mapping, ValueEncoding};
use crate::push::cursors::{CursorLog, Cursors};
use crate::push::owners::{Kept, KeySorter, Loser, SharedEmails};
use crate::push::values::{
    clear_unanswered, compute, fingerprint, normalize_email, Labels, Packed, PackedMap, Values,
};
use crate::run::daily::{daily_limit_error, DailyGuard};
use crate::run::dto::*;
use crate::run::pacer::Pacer;
use crate::run::retry::{HubSpotStep, HubSpotTally};
use crate::run::store::{ContactState, Outcome, Owner, Recorded, Store};

/// Samples kept per group of a dry-run plan.
const SAMPLES: usize = 5;
/// Failed people fetched first at most (the rest are retried when the stream reaches them).
const FAILED_FIRST_MAX: u32 = 1000;
/// Outcomes kept in memory before they are recorded in one transaction (each transaction
/// rewrites every page of the state it touches: a few large ones write little).
const STATE_BATCH: usize = 10_000;
/// Least time between two saves of the run's counts.
const COUNTS_INTERVAL: Duration = Duration::from_secs(1);
/// People's outcomes for History kept in memory at most (≈ 0.4 KB each) before they are saved,
/// even within a [`COUNTS_INTERVAL`]: a stretch of the listing where everyone is a duplicate or
/// invalid is read as fast as Didomi answers, with nothing to wait for.
const RECORDS_BATCH: usize = 2_000;

/// Tunables of the engine. [`EngineConfig::default`] is HubSpot's OAuth-app limit.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Requests allowed per `rate_window` (110 for an OAuth app, 100 for a Free/Starter
    /// private app).
    pub rate_limit: u32,
    /// HubSpot's rolling window (10 s; divided by the simulator's time scale in benchmarks).
    pub rate_window: Duration,
    /// Slack added to the window for network delay.
    pub rate_margin: Duration,
    /// Records per batch (HubSpot allows 100).
    pub batch_size: usize,
    /// Attempts of one request on transient failures before its records fail.
    pub max_attempts: u32,
    /// First backoff delay (doubled per attempt, with ±50 % jitter).
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_max: Duration,
    /// Requests in flight at once, at least: more when HubSpot answers slowly (enough to keep
    /// the pacer's window busy at the latency observed, up to `max_in_flight`).
    pub concurrency: usize,
    /// Most requests in flight, whatever the latency.
    pub max_in_flight: usize,
    /// Smallest interval between two progress updates.
    pub progress_interval: Duration,
    /// Language of preference value labels.
    pub lang: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            rate_limit: 110,
            rate_window: Duration::from_secs(10),
            rate_margin: Duration::from_millis(150),
            batch_size: MAX_BATCH,
            max_attempts: 5,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(20),
            concurrency: 4,
            max_in_flight: 64,
            progress_interval: Duration::from_millis(100),
            lang: "en".into(),
        }
    }
}

impl EngineConfig {
    /// The retry policy of this configuration.
    pub fn retry(&self) -> crate::run::retry::Backoff {
        crate::run::retry::Backoff {
            max_attempts: self.max_attempts,
            base: self.backoff_base,
            max: self.backoff_max,
        }
    }

    /// The same limits with every duration divided by `time_scale` (the simulator's).
    pub fn scaled(mut self, time_scale: f64) -> Self {
        let f = time_scale.max(1e-3);
        self.rate_window = self.rate_window.div_f64(f);
        self.rate_margin = self.rate_margin.div_f64(f).max(Duration::from_millis(15));
        self.backoff_base = self.backoff_base.div_f64(f).max(Duration::from_millis(2));
        self.backoff_max = self.backoff_max.div_f64(f).max(Duration::from_millis(20));
        self
    }

    /// The pacer these limits describe.
    pub fn pacer(&self) -> Pacer {
        Pacer::new(self.rate_limit, self.rate_window, self.rate_margin)
    }
}

/// Everything a push needs.
#[derive(Debug, Clone)]
pub struct PushJob {
    /// HubSpot client (refreshes its own token).
    pub hubspot: Arc<HubSpotClient>,
    /// Didomi client.
    pub didomi: Arc<DidomiClient>,
    /// State and history.
    pub store: Arc<Store>,
    /// The pacer of this portal (share one per portal).
    pub pacer: Arc<Pacer>,
    /// The mapping.
    pub mapping: Mapping,
    /// Upsert mode.
    pub upsert: bool,
    /// Identity of the portal + organization the state belongs to.
    pub scope: String,
}

/// Progress callback.
pub type ProgressFn = Arc<dyn Fn(SyncProgress) + Send + Sync>;

/// Runs a push (or its dry run). The run is recorded in the history whatever happens; the
/// returned error is for failures that stopped the run (its summary is in the history too).
///
/// # Errors
/// [`ErrorCode::SyncStateUnavailable`] when the database fails; HubSpot/Didomi codes when a
/// service kept failing or refused the credentials (the run is then `Failed`).
pub async fn push(
    job: PushJob,
    req: SyncRequest,
    cfg: EngineConfig,
    on_progress: ProgressFn,
    cancel: CancellationToken,
) -> Result<RunReport, Error> {
    push_from(job, req, cfg, on_progress, cancel, None).await
}

/// [`push`] of the people whose `organization_user_id` is exactly one of `ouids` (every
/// spelling of one email, as the contact inspector found them), read with Didomi's
/// `organization_user_id` filter instead of listing every user: a run of one, under the same
/// lock, pacer, rules and history as every run. The duplicate rule picks among these users.
///
/// # Errors
/// As [`push`].
pub async fn push_only(
    job: PushJob,
    ouids: Vec<String>,
    req: SyncRequest,
    cfg: EngineConfig,
    on_progress: ProgressFn,
    cancel: CancellationToken,
) -> Result<RunReport, Error> {
    push_from(job, req, cfg, on_progress, cancel, Some(ouids)).await
}

async fn push_from(
    job: PushJob,
    req: SyncRequest,
    cfg: EngineConfig,
    on_progress: ProgressFn,
    cancel: CancellationToken,
    only: Option<Vec<String>>,
) -> Result<RunReport, Error> {
    let mut job = job;
    // The run's one retry policy for every Didomi call (session included).
    job.didomi = Arc::new((*job.didomi).clone().with_retry(cfg.retry()));
    job.didomi.session().set_retry(cfg.retry());
    let store = job.store.clone();
    // One run at a time per data folder, across processes; only then are runs left `Running`
    // known to be dead.
    let _lock = store.lock_run("push")?;
    store.mark_interrupted()?;
    store.ensure_scope(&job.scope)?;
    let crashed = store.fold_pending()?;
    if crashed > 0 {
        tracing::info!(crashed, "writes of an interrupted push are verified before any other");
    }
    job.pacer.begin_run();
    let mode = if req.full { RunMode::Full } else { RunMode::Incremental };
    let started_at = now_rfc3339();
    let run_id = store.begin_run(SyncDirection::Push, mode, req.dry_run, &started_at)?;
    let mut run = Run::new(job, req, cfg, run_id, on_progress);
    run.only = only;
    let outcome = run.execute(cancel.clone()).await;
    let duration = run.started.elapsed().as_millis() as u64;
    // A call cut short by the cancel ends in an error: the run was cancelled, not failed.
    let outcome = if cancel.is_cancelled() { outcome.or(Ok(())) } else { outcome };
    let (status, message, err) = match outcome {
        Ok(()) if cancel.is_cancelled() => (
            RunStatus::Cancelled,
            Some("Cancelled: what was written stays written; the next push picks up the rest.".to_owned()),
            None,
        ),
        Ok(()) if run.counts.failed > 0 => (
            RunStatus::Partial,
            Some(format!(
                "{} record(s) could not be written; see the failures. They are retried first by the next push.",
                run.counts.failed
            )),
            None,
        ),
        Ok(()) => (RunStatus::Succeeded, None, None),
        Err(e) => (RunStatus::Failed, Some(e.message.clone()), Some(e)),
    };
    run.record_outcomes()?;
    store.checkpoint()?;
    run.flush_records()?;
    store.finish_run(run_id, status, &run.counts, message.as_deref(), &now_rfc3339(), duration)?;
    run.emit_progress("finishing", true);
    if let Some(e) = err {
        return Err(e);
    }
    let summary = store.run(run_id)?.ok_or_else(|| {
        Error::new(ErrorCode::Internal, "The run vanished from the history database.")
    })?;
    let plan = run.req.dry_run.then(|| run.plan.clone());
    Ok(RunReport { summary, plan })
}

/// One person on its way through the engine.
#[derive(Debug, Clone)]
struct Rec {
    email: String,
    ouid: String,
    user_id: String,
    updated: String,
    /// What to write: the winner's answers plus `""` for managed properties it has not answered,
    /// packed against the run's property list ([`Run::properties`]); set when it is routed.
    values: Packed,
    hash: i64,
    hubspot_id: Option<String>,
    /// What the state keeps as written once `values` are: `values` plus the earlier written
    /// values of properties not mapped now (HubSpot still holds them: mapped again, they are
    /// cleared when the winner has no answer). `None` when that is `values` alone.
    keeps: Option<Values>,
}

impl Rec {
    /// What the state keeps of this outcome until it is recorded (see [`Done`]).
    fn done(
        self,
        store: &Store,
        names: &[String],
        outcome: Outcome,
        hubspot_id: Option<String>,
    ) -> Result<Done, Error> {
        let stored = match outcome {
            Outcome::Written => Some(match &self.keeps {
                Some(keeps) => store.encode_written(keeps)?,
                None => store.encode_written(&self.values.unpack(names))?,
            }),
            _ => None,
        };
        Ok(Done {
            email: self.email,
            outcome,
            hash: self.hash,
            hubspot_id,
            stored,
            user_id: self.user_id,
            updated: self.updated,
            ouid: self.ouid,
        })
    }
}

/// An outcome waiting to be recorded: what the state keeps of a person, the written values in
/// their stored form (≈ 0.3 KB; the [`Rec`] it comes from holds ≈ 0.6 KB, packed values included).
#[derive(Debug)]
struct Done {
    email: String,
    outcome: Outcome,
    hash: i64,
    hubspot_id: Option<String>,
    stored: Option<String>,
    user_id: String,
    updated: String,
    ouid: String,
}

impl Done {
    fn recorded(&self) -> Recorded<'_> {
        Recorded {
            stored: self.stored.as_deref(),
            owner: Some(Owner { user_id: &self.user_id, updated: &self.updated, ouid: &self.ouid }),
            ..Recorded::new(&self.email, self.outcome, self.hash, self.hubspot_id.as_deref())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read = 0,
    Update = 1,
    Upsert = 2,
}

#[derive(Debug)]
struct Job {
    kind: Kind,
    recs: Vec<Rec>,
    /// The first journal sequence number of its in-flight marks (writes).
    mark: Option<i64>,
}

/// Why a request finally failed.
#[derive(Debug)]
enum JobError {
    /// Stop the run.
    Fatal(Error),
    /// The whole batch was refused (400, 404, 409...): split it, or fail the single record.
    Rejected { category: Option<String>, message: String, correlation_id: Option<String> },
    /// Transient failures outlasted the retries: each record fails.
    Exhausted { category: Option<String>, message: String, correlation_id: Option<String> },
}

/// What the scan learned about the owners of emails (see the module documentation).
#[derive(Debug, Default)]
struct Owners {
    /// The emails shared by several users: the winner's rank, and the winner once the writing
    /// pass has met it (on disk).
    shared: SharedEmails,
    /// The newest change the scan saw: a user changed after it is left to the next run.
    cutoff: i64,
    /// The cursor each page of the listing returned, in order (on disk): the writing pass
    /// reads several pages at once from them ([`read_listing`]).
    cursors: Cursors,
}

/// The scan's sorted chunks or cursors could not be written to or read from the data folder.
fn spill_error(e: std::io::Error) -> Error {
    Error::new(
        ErrorCode::SyncStateUnavailable,
        format!("The push could not use its data folder to list the Didomi users ({e}). Check the disk space and permissions of the app data folder, then start again."),
    )
}

/// How a user ranks among the users of its email: newest `updated_at` (ms), then the id.
pub(crate) type Rank = (i64, u64, u64);

/// A 128-bit key of a normalized email (collisions are out of reach at any population).
fn email_key(email: &str) -> u128 {
    use siphasher::sip128::Hasher128;
    let mut h = siphasher::sip128::SipHasher13::new();
    std::hash::Hasher::write(&mut h, email.as_bytes());
    h.finish128().as_u128()
}

/// `updated_at` in ms since the epoch (0 when absent or unreadable: oldest).
pub(crate) fn updated_ms(updated: Option<&str>) -> i64 {
    updated
        .and_then(|u| {
            time::OffsetDateTime::parse(u, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

/// The rank of a user: newest change first; on an exact tie, the id that sorts last by its first
/// eight bytes (which decide for Didomi's random ids); when those are equal too (ids an import
/// chose, such as `crm-user-1` and `crm-user-2`), the greater 64-bit SipHash of the whole id.
/// So two users of an email never tie, and the order is the same in every run and version.
pub(crate) fn rank(id: &str, updated_at: Option<&str>) -> Rank {
    let mut prefix = [0u8; 8];
    for (d, s) in prefix.iter_mut().zip(id.bytes()) {
        *d = s;
    }
    let whole = std::hash::Hasher::finish(&{
        let mut h = siphasher::sip::SipHasher13::new();
        std::hash::Hasher::write(&mut h, id.as_bytes());
        h
    });
    (updated_ms(updated_at), u64::from_be_bytes(prefix), whole)
}

struct Run {
    job: PushJob,
    req: SyncRequest,
    cfg: EngineConfig,
    run_id: i64,
    on_progress: ProgressFn,
    started: Instant,
    last_progress: Option<Instant>,
    counts: RunCounts,
    plan: DryRunPlan,
    records: Vec<RecordOutcome>,
    queues: [VecDeque<Rec>; 3],
    split: VecDeque<Job>,
    labels: Labels,
    properties: Vec<String>,
    mapped: HashSet<String>,
    owners: Owners,
    /// Users already handled by the failed-first fetch (skipped when the stream reaches them).
    first_ids: HashSet<String>,
    /// Outcomes not recorded yet (see the module documentation, step 5).
    outcomes: Vec<Done>,
    /// Journal marks of the write jobs sent or waiting whose outcomes are not in yet.
    marks: BTreeMap<i64, u32>,
    /// When the counts were last saved.
    counts_saved: Option<Instant>,
    /// Smoothed HubSpot answer time (s).
    latency_s: f64,
    /// A run of one: the exact `organization_user_id`s to read instead of every user.
    only: Option<Vec<String>>,
}

impl Run {
    fn new(
        job: PushJob,
        req: SyncRequest,
        cfg: EngineConfig,
        run_id: i64,
        on_progress: ProgressFn,
    ) -> Self {
        let mut properties: Vec<String> =
            job.mapping.entries.iter().map(|e| e.property.clone()).collect();
        let mapped = properties.iter().cloned().collect();
        properties.push("email".into());
        properties.sort();
        properties.dedup();
        Self {
            job,
            req,
            cfg,
            run_id,
            on_progress,
            started: Instant::now(),
            last_progress: None,
            counts: RunCounts::default(),
            plan: DryRunPlan::default(),
            records: Vec::new(),
            queues: Default::default(),
            split: VecDeque::new(),
            labels: Labels::default(),
            properties,
            mapped,
            owners: Owners::default(),
            first_ids: HashSet::new(),
            outcomes: Vec::new(),
            marks: BTreeMap::new(),
            counts_saved: None,
            latency_s: 0.0,
            only: None,
        }
    }

    /// Requests in flight now: enough to send the pacer's rate at the observed answer time
    /// (twice over, for the bursts when a window opens), never fewer than configured.
    fn in_flight_max(&self) -> usize {
        let want = (self.job.pacer.per_second() * self.latency_s * 2.0).ceil() as usize + 1;
        let least = self.cfg.concurrency.max(1);
        want.max(least).min(self.cfg.max_in_flight.max(least))
    }

    /// People ready ahead of the writes: half a window's worth of requests (≈ 5,500 records
    /// at 110 per window), read while the pacer waits, so the window opens on them and the
    /// reader keeps reading the rest meanwhile; ≈ 0.6 KB each with 25 mapped properties.
    fn read_ahead(&self) -> usize {
        (self.job.pacer.limit() as usize / 2).clamp(8, 100) * self.batch()
    }

    fn release(&mut self, mark: Option<i64>) {
        if let Some(m) = mark {
            if let Some(n) = self.marks.get_mut(&m) {
                *n -= 1;
                if *n == 0 {
                    self.marks.remove(&m);
                }
            }
        }
    }

    /// Keeps outcomes for the next recording; records them once there are many.
    fn keep(&mut self, rows: Vec<(Rec, Outcome, Option<String>)>) -> Result<(), Error> {
        if self.req.dry_run {
            return Ok(());
        }
        if self.outcomes.capacity() == 0 {
            // One batch and the job's answer that crosses it (≈ 1.6 MB), not the next power of
            // two that doubling would reach (≈ 2.6 MB at the run's peak).
            self.outcomes.reserve_exact(STATE_BATCH + self.batch());
        }
        for (rec, outcome, id) in rows {
            self.outcomes.push(rec.done(&self.job.store, &self.properties, outcome, id)?);
        }
        if self.outcomes.len() >= STATE_BATCH {
            self.record_outcomes()?;
        }
        Ok(())
    }

    /// Records the kept outcomes in one transaction, which also deletes the journal marks of
    /// every batch whose outcome is now recorded (those below the oldest job still out).
    fn record_outcomes(&mut self) -> Result<(), Error> {
        if self.req.dry_run {
            self.outcomes.clear();
            return Ok(());
        }
        let below = self.marks.keys().next().copied().unwrap_or(i64::MAX);
        let rows: Vec<Recorded<'_>> = self.outcomes.iter().map(Done::recorded).collect();
        self.job.store.record_clearing(&rows, Some(below))?;
        self.outcomes.clear();
        Ok(())
    }

    fn batch(&self) -> usize {
        self.cfg.batch_size.max(1)
    }

    async fn execute(&mut self, cancel: CancellationToken) -> Result<(), Error> {
        self.load_labels(&cancel).await?;
        self.owners = self.scan(&cancel).await?;
        if cancel.is_cancelled() {
            return Ok(());
        }
        let failed_first = match &self.only {
            Some(_) => Vec::new(),
            None => self.job.store.failed_ouids(FAILED_FIRST_MAX)?,
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Page, Error>>(8);
        let reader_cancel = cancel.child_token();
        let reader = tokio::spawn(read_users(
            self.job.didomi.clone(),
            self.cfg.clone(),
            failed_first,
            self.only.clone(),
            std::mem::take(&mut self.owners.cursors),
            tx,
            reader_cancel.clone(),
        ));
        let _stop_reader = reader_cancel.clone().drop_guard();
        let fatal = self.write(&mut rx, &cancel).await;
        reader_cancel.cancel();
        drop(rx); // a reader blocked on a full channel sees it closed and ends
        reader.abort(); // a reader waiting out a Retry-After must not hold up a cancel
        let _ = reader.await;
        if let Some(e) = fatal {
            return Err(e);
        }
        self.plan.invalid = self.counts.invalid;
        self.plan.duplicates = self.counts.duplicates;
        Ok(())
    }

    /// The preference labels, when a mapped preference is written as labels.
    async fn load_labels(&mut self, cancel: &CancellationToken) -> Result<(), Error> {
        if self.job.mapping.entries.iter().any(|e| {
            e.encoding == ValueEncoding::Labels
                && matches!(e.item, crate::mapping::DidomiItem::Preference { .. })
        }) {
            let didomi = self.job.didomi.clone();
            let prefs = didomi_retry(&self.cfg, cancel, || didomi.list_preferences()).await?;
            self.labels = Labels::from_preferences(&prefs, &self.cfg.lang);
        }
        Ok(())
    }

    /// The writing pass: takes the reader's pages, starts jobs and handles their answers until
    /// everything is written, the run is cancelled or an error stops it (returned).
    async fn write(
        &mut self,
        rx: &mut tokio::sync::mpsc::Receiver<Result<Page, Error>>,
        cancel: &CancellationToken,
    ) -> Option<Error> {
        let mut in_flight = FuturesUnordered::new();
        let mut reader_done = false;
        // (tokio refuses a zero period: an interval of 0, "every event", ticks every ms.)
        let mut ticker =
            tokio::time::interval(self.cfg.progress_interval.max(Duration::from_millis(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        // What the answers before the run (connection and mapping checks) said about the budget.
        if let Some(s) = self.job.hubspot.rate_limits() {
            self.job.pacer.observe(&s);
        }
        let daily = DailyGuard::new(SyncDirection::Push);
        let mut fatal = daily.at_start(&self.job.hubspot).await.err();
        loop {
            let mut stopping = cancel.is_cancelled() || fatal.is_some();
            if !stopping {
                fatal = daily.check(&self.job.hubspot).await.err();
                stopping = fatal.is_some();
            }
            if !stopping {
                let room = self.in_flight_max().saturating_sub(in_flight.len());
                for job in self.take_jobs(room, reader_done, &mut fatal) {
                    let (h, p, props) =
                        (self.job.hubspot.clone(), self.job.pacer.clone(), self.properties.clone());
                    in_flight.push(spawned(run_job(h, p, self.cfg.clone(), props, job)));
                }
            }
            let idle = self.queued() == 0 && self.split.is_empty();
            if in_flight.is_empty() && (stopping || (reader_done && idle)) {
                return fatal;
            }
            let want_pages = !reader_done && !stopping && self.queued() < self.read_ahead();
            let step = tokio::select! {
                Some((job, result, took)) = in_flight.next(), if !in_flight.is_empty() => {
                    self.answered(job, result, took)
                }
                page = rx.recv(), if want_pages => self.take(page, &mut reader_done),
                _ = cancel.cancelled(), if !stopping => Ok(()),
                _ = ticker.tick() => self.tick(reader_done),
            };
            if let Err(e) = step.and_then(|()| self.bound_records()) {
                fatal.get_or_insert(e);
            }
        }
    }

    /// Saves the outcomes for History once there are [`RECORDS_BATCH`] of them.
    fn bound_records(&mut self) -> Result<(), Error> {
        if self.records.len() >= RECORDS_BATCH {
            self.flush_records()?;
        }
        Ok(())
    }

    /// Up to `room` jobs to send now, each write marked in the journal before it is sent: if
    /// the app dies before the answer is recorded, the next run checks HubSpot instead of
    /// writing blindly. A journal failure stops the run (in `fatal`).
    fn take_jobs(&mut self, room: usize, reader_done: bool, fatal: &mut Option<Error>) -> Vec<Job> {
        let mut jobs = Vec::new();
        while jobs.len() < room {
            let Some(mut job) = self.next_job(reader_done) else { break };
            if matches!(job.kind, Kind::Update | Kind::Upsert) && job.mark.is_none() {
                let pending: Vec<(&str, i64)> =
                    job.recs.iter().map(|r| (r.email.as_str(), r.hash)).collect();
                match self.job.store.set_pending(&pending) {
                    Ok(mark) => {
                        job.mark = Some(mark);
                        *self.marks.entry(mark).or_default() += 1;
                    }
                    Err(e) => {
                        fatal.get_or_insert(e.into());
                        self.split.push_front(job);
                        break;
                    }
                }
            }
            jobs.push(job);
        }
        jobs
    }

    /// A job's answer: the observed latency, then its outcomes.
    fn answered(
        &mut self,
        job: Job,
        result: Result<Answer, JobError>,
        took: Duration,
    ) -> Result<(), Error> {
        let took = took.as_secs_f64();
        self.latency_s =
            if self.latency_s == 0.0 { took } else { 0.8 * self.latency_s + 0.2 * took };
        self.handle(job, result)
    }

    /// What the reader sent: a page, its error, or its end.
    fn take(
        &mut self,
        page: Option<Result<Page, Error>>,
        reader_done: &mut bool,
    ) -> Result<(), Error> {
        match page {
            Some(page) => self.take_page(page?),
            None => {
                *reader_done = true;
                self.report_unmet()
            }
        }
    }

    /// Progress, and the counts and records saved at most every [`COUNTS_INTERVAL`].
    fn tick(&mut self, reader_done: bool) -> Result<(), Error> {
        let phase = if reader_done { "writing" } else { "reading" };
        self.emit_progress(phase, false);
        if self.counts_saved.is_none_or(|t| t.elapsed() >= COUNTS_INTERVAL) {
            self.counts_saved = Some(Instant::now());
            self.flush_records()?;
        }
        Ok(())
    }

    /// Pages through every user once and keeps, per email shared by several users, the winner.
    async fn scan(&mut self, cancel: &CancellationToken) -> Result<Owners, Error> {
        crate::push::owners::remove_left_files(self.job.store.dir());
        let mut keys =
            Scanned { keys: KeySorter::new(self.job.store.dir()), cutoff: i64::MIN, read: 0 };
        let mut cursors = CursorLog::new(self.job.store.dir());
        if let Some(only) = self.only.clone() {
            for ouid in only {
                if cancel.is_cancelled() {
                    break;
                }
                for u in &users_by_ouid(&self.job.didomi, &self.cfg, cancel, &ouid).await? {
                    keys.note(u.organization_user_id.as_deref(), &u.id, u.updated_at.as_deref())?;
                }
            }
        } else {
            let (didomi, cfg) = (self.job.didomi.clone(), self.cfg.clone());
            let fetch = |cursor: Option<String>| {
                let (d, cfg) = (didomi.clone(), cfg.clone());
                spawned(listing_page::<UserKey>(d, cfg, cancel.clone(), cursor))
            };
            let mut fetching = Some(fetch(None));
            while let Some(page) = fetching.take() {
                if cancel.is_cancelled() {
                    break;
                }
                let page = match page.await {
                    Ok(p) => p,
                    Err(_) if cancel.is_cancelled() => break,
                    Err(e) => return Err(e),
                };
                // The next page is asked for before this one is sorted. Didomi's cursor pages
                // chain, so the scan is one round trip after another; this way sorting a page
                // overlaps the next page's round trip and decoding.
                if let Some(next) = page.cursor.as_ref().filter(|c| !c.is_empty()) {
                    if !page.data.is_empty() {
                        cursors.push(next).map_err(spill_error)?;
                        fetching = Some(fetch(Some(next.clone())));
                    }
                }
                for u in &page.data {
                    keys.note(u.organization_user_id.as_deref(), &u.id, u.updated_at.as_deref())?;
                }
                if self.progress_due(fetching.is_none()) {
                    let progress = RunCounts { read: keys.read, ..self.counts };
                    (self.on_progress)(SyncProgress::from_counts(
                        self.run_id,
                        "scanning",
                        &progress,
                        0.0,
                        None,
                        self.started.elapsed(),
                    ));
                }
            }
        }
        let shared = keys.keys.shared().map_err(spill_error)?;
        let cursors = cursors.finish().map_err(spill_error)?;
        Ok(Owners { shared, cutoff: keys.cutoff, cursors })
    }

    fn queued(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    fn next_job(&mut self, reader_done: bool) -> Option<Job> {
        if let Some(j) = self.split.pop_front() {
            return Some(j);
        }
        let b = self.batch();
        for (i, kind) in [Kind::Read, Kind::Update, Kind::Upsert].into_iter().enumerate() {
            let q = &mut self.queues[i];
            if q.len() >= b || (reader_done && !q.is_empty()) {
                let n = q.len().min(b);
                return Some(Job { kind, recs: q.drain(..n).collect(), mark: None });
            }
        }
        None
    }

    fn take_page(&mut self, page: Page) -> Result<(), Error> {
        let mut winners = Vec::with_capacity(page.users.len());
        for u in page.users {
            if page.first {
                self.first_ids.insert(u.id.clone());
            } else if self.first_ids.remove(&u.id) {
                continue; // already handled by the failed-first fetch
            }
            self.counts.read += 1;
            let ouid = u.organization_user_id.clone().unwrap_or_default();
            let email = match normalize_email(u.organization_user_id.as_deref()) {
                Ok(e) => e,
                Err(reason) => {
                    self.invalid(&u, ouid, reason);
                    continue;
                }
            };
            let key = email_key(&email);
            let r = rank(&u.id, u.updated_at.as_deref());
            let owner = self.owner(key, r).map_err(spill_error)?;
            if r.0 > self.owners.cutoff {
                self.later(email, &u);
                continue;
            }
            if let Some((winner, kept)) = owner {
                let updated = u.updated_at.as_deref().unwrap_or_default().to_owned();
                if winner != r {
                    self.counts.duplicates += 1;
                    let loser = Loser { email, ouid, user_id: u.id, updated };
                    match kept {
                        Some(kept) => self.report_loser(loser, Some(&kept)),
                        None => self.owners.shared.wait(key, &loser).map_err(spill_error)?,
                    }
                    continue;
                }
                let kept = Kept { id: u.id.clone(), updated };
                for loser in self.owners.shared.keep(key, &kept).map_err(spill_error)? {
                    self.report_loser(loser, Some(&kept));
                }
            }
            let values = compute(&u, &self.job.mapping, &self.labels);
            let rec = Rec {
                hash: 0,
                email,
                ouid,
                user_id: u.id,
                updated: u.updated_at.unwrap_or_default(),
                values: Packed::default(),
                hubspot_id: None,
                keeps: None,
            };
            winners.push((rec, values));
        }
        self.route(winners)
    }

    fn invalid(&mut self, u: &ConsentUser, ouid: String, reason: &str) {
        self.counts.invalid += 1;
        if self.plan.samples.invalid.len() < SAMPLES {
            self.plan
                .samples
                .invalid
                .push(InvalidSample { email: ouid.clone(), reason: reason.into() });
        }
        self.records.push(RecordOutcome {
            email: if ouid.is_empty() { format!("(Didomi user {})", u.id) } else { ouid },
            action: RecordAction::Invalid,
            status: RecordStatus::Skipped,
            category: None,
            message: format!("Not pushed: {reason}. Fix it in Didomi to include this person."),
            correlation_id: None,
        });
    }

    /// A user changed after the scan: pushing it now could contradict this run's choice of the
    /// email's owner, so the next run pushes it.
    fn later(&mut self, email: String, u: &ConsentUser) {
        self.counts.skipped += 1;
        self.records.push(RecordOutcome {
            email,
            action: RecordAction::Skip,
            status: RecordStatus::Skipped,
            category: None,
            message: format!(
                "Didomi user {} changed while this run was reading Didomi; the next push writes it.",
                u.id
            ),
            correlation_id: None,
        });
    }

    /// The winner of the email `key` and the winner as met, if other users have it (`None`:
    /// the user of rank `r` is its only user, as the scan saw it). A user the scan did not see as
    /// it is now (the listing left it out, or it changed since) makes its email one that several
    /// users have, and wins it if it is newer than the winner the scan saw: so a user the scan
    /// missed never has an older user's answers written over its own, nor loses to one.
    fn owner(&mut self, key: u128, r: Rank) -> std::io::Result<Option<(Rank, Option<Kept>)>> {
        let shared = &mut self.owners.shared;
        let known = match shared.get(key)? {
            Some(known) => known,
            None => match shared.single(key)? {
                Some(only) if only == r => return Ok(None),
                only => {
                    let winner = only.map_or(r, |o| o.max(r));
                    shared.share(key, winner)?;
                    return Ok(Some((winner, None)));
                }
            },
        };
        if r > known.0 {
            shared.set_winner(key, r)?;
            return Ok(Some((r, None)));
        }
        Ok(Some(known))
    }

    /// Reports the duplicates still waiting when the listing ends (their winner changed while
    /// this run was reading, or was not listed again).
    fn report_unmet(&mut self) -> Result<(), Error> {
        loop {
            let losers = self.owners.shared.take_unmet(1000).map_err(spill_error)?;
            if losers.is_empty() {
                return Ok(());
            }
            for l in losers {
                self.report_loser(l, None);
            }
        }
    }

    /// Reports a duplicate user, naming the user that won its email and why.
    fn report_loser(&mut self, l: Loser, kept: Option<&Kept>) {
        let kept = kept.map(|k| (k.id.as_str(), k.updated.as_str()));
        let winner = match kept {
            Some((id, updated)) => format!(
                "the newer user {id} (changed {}; this one {})",
                show(updated),
                show(&l.updated)
            ),
            None => "a newer user that changed again while this run was reading (the next push writes it)".to_owned(),
        };
        if self.plan.samples.duplicates.len() < SAMPLES {
            let (kept_user, kept_updated_at) = kept.unwrap_or_default();
            self.plan.samples.duplicates.push(DuplicateSample {
                email: l.email.clone(),
                kept_user: kept_user.to_owned(),
                kept_updated_at: kept_updated_at.to_owned(),
                other_user: l.user_id.clone(),
                other_updated_at: l.updated.clone(),
            });
        }
        self.records.push(RecordOutcome {
            email: l.ouid,
            action: RecordAction::Duplicate,
            status: RecordStatus::Skipped,
            category: None,
            message: format!(
                "Didomi user {} shares this email with {winner}, whose consents are the ones pushed: of the users sharing an email, the one changed last wins. Merge or delete the older user in Didomi.",
                l.user_id
            ),
            correlation_id: None,
        });
    }

    /// Decides what each of a page's winners needs (nothing, a read, an update, a create) from
    /// its state, and queues it with its values packed.
    fn route(&mut self, recs: Vec<(Rec, Values)>) -> Result<(), Error> {
        if recs.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = recs.iter().map(|(r, _)| r.email.as_str()).collect();
        let states = self.job.store.states(&keys)?;
        let none = ContactState::default();
        let mut skipped_again = Vec::new();
        for (mut rec, mut values) in recs {
            let st = states.get(&rec.email).unwrap_or(&none);
            // Properties an earlier push wrote that the winner has no answer for are cleared:
            // a consent of another user, or one withdrawn, never stays in HubSpot.
            clear_unanswered(&mut values, st.written.as_ref(), &self.mapped);
            // What was written for rows unmapped since stays remembered (see `Rec::keeps`).
            if let Some(written) = &st.written {
                let unmapped =
                    written.iter().filter(|(p, v)| !self.mapped.contains(*p) && !v.is_empty());
                let mut keeps = values.clone();
                keeps.extend(unmapped.map(|(p, v)| (p.clone(), v.clone())));
                if keeps.len() > values.len() {
                    rec.keeps = Some(keeps);
                }
            }
            rec.hash = fingerprint(&values);
            rec.hubspot_id = st.hubspot_id.clone();
            if values.is_empty() {
                self.counts.unchanged += 1;
                self.plan.unchanged += 1;
                continue;
            }
            rec.values = Packed::pack(&values, &self.properties).map_err(|p| {
                let m = format!("The property {p} is missing from the push's list: report this.");
                Error::new(ErrorCode::Internal, m)
            })?;
            let verify = st.pending_hash == Some(rec.hash);
            let kind = if self.req.full || self.req.dry_run || verify {
                if !self.req.full && !verify && self.unchanged(&rec, st) {
                    continue;
                }
                Kind::Read
            } else if self.unchanged(&rec, st) {
                continue;
            } else if st.hash == Some(rec.hash)
                && st.outcome == Some(Outcome::Skipped)
                && !self.job.upsert
            {
                skipped_again.push(rec);
                continue;
            } else if rec.hubspot_id.is_some() {
                Kind::Update
            } else if self.job.upsert {
                Kind::Upsert
            } else {
                Kind::Read
            };
            if matches!(kind, Kind::Update | Kind::Upsert) {
                self.counts.to_write += 1;
            }
            self.queues[kind as usize].push_back(rec);
        }
        for rec in skipped_again {
            self.skip(&rec);
        }
        Ok(())
    }

    /// Incremental: the values were already written (or skipped) as they are now.
    fn unchanged(&mut self, rec: &Rec, st: &ContactState) -> bool {
        let same = st.hash == Some(rec.hash)
            && st.outcome == Some(Outcome::Written)
            && st.pending_hash.is_none();
        if same {
            self.counts.unchanged += 1;
            self.plan.unchanged += 1;
        }
        same
    }

    fn skip(&mut self, rec: &Rec) {
        self.counts.skipped += 1;
        self.plan.skipped_no_contact += 1;
        if self.plan.samples.skipped.len() < SAMPLES {
            self.plan.samples.skipped.push(rec.email.clone());
        }
        self.records.push(RecordOutcome {
            email: rec.email.clone(),
            action: RecordAction::Skip,
            status: RecordStatus::Skipped,
            category: None,
            message: "No HubSpot contact has this email and upsert mode is off: turn upsert mode on to create it.".into(),
            correlation_id: None,
        });
    }

    fn fail(
        &mut self,
        rec: &Rec,
        action: RecordAction,
        category: Option<String>,
        message: String,
        correlation_id: Option<String>,
    ) {
        self.counts.failed += 1;
        self.records.push(RecordOutcome {
            email: rec.email.clone(),
            action,
            status: RecordStatus::Failed,
            category,
            message,
            correlation_id,
        });
    }

    fn handle(&mut self, job: Job, result: Result<Answer, JobError>) -> Result<(), Error> {
        let resp = match result {
            Ok(r) => r,
            // The in-flight marks stay: the next run verifies those records before writing.
            Err(JobError::Fatal(e)) => return Err(e),
            Err(JobError::Rejected { category, message, correlation_id }) if job.recs.len() > 1 => {
                tracing::debug!(n = job.recs.len(), %message, "batch rejected whole; splitting it");
                let _ = (category, correlation_id);
                let mut recs = job.recs;
                let tail = recs.split_off(recs.len() / 2);
                // Both halves keep the batch's journal marks until both are recorded.
                if let Some(m) = job.mark {
                    *self.marks.entry(m).or_default() += 1;
                }
                self.split.push_back(Job { kind: job.kind, recs, mark: job.mark });
                self.split.push_back(Job { kind: job.kind, recs: tail, mark: job.mark });
                return Ok(());
            }
            Err(
                JobError::Rejected { category, message, correlation_id }
                | JobError::Exhausted { category, message, correlation_id },
            ) => {
                let action = action_of(job.kind);
                for rec in &job.recs {
                    self.fail(
                        rec,
                        action,
                        category.clone(),
                        message.clone(),
                        correlation_id.clone(),
                    );
                }
                self.release(job.mark);
                if !self.req.dry_run {
                    self.keep(job.recs.into_iter().map(|r| (r, Outcome::Failed, None)).collect())?;
                }
                return Ok(());
            }
        };
        self.release(job.mark);
        match resp {
            Answer::Read(resp) => self.after_read(job.recs, resp),
            Answer::Written(resp) => self.after_write(job.kind, job.recs, resp),
        }
    }

    fn after_read(&mut self, recs: Vec<Rec>, resp: BatchResponse) -> Result<(), Error> {
        let mut found: HashMap<String, (String, BTreeMap<String, Option<String>>)> = HashMap::new();
        for r in resp.results {
            let email = r.properties.get("email").cloned().flatten().unwrap_or_default();
            found.insert(email.trim().to_lowercase(), (r.id, r.properties));
        }
        let mut rows: Vec<(Rec, Outcome, Option<String>)> = Vec::new();
        for mut rec in recs {
            match found.get(&rec.email) {
                Some((id, current)) => {
                    rec.hubspot_id = Some(id.clone());
                    let changes: Vec<PropertyChange> = rec
                        .values
                        .iter(&self.properties)
                        // An empty value and no value are the same in HubSpot.
                        .filter(|(p, v)| {
                            current.get(*p).cloned().flatten().unwrap_or_default() != *v
                        })
                        .map(|(p, v)| PropertyChange {
                            property: p.to_owned(),
                            before: current.get(p).cloned().flatten(),
                            after: Some(v.to_owned()),
                        })
                        .collect();
                    if changes.is_empty() {
                        self.counts.unchanged += 1;
                        self.plan.unchanged += 1;
                        if !self.req.dry_run {
                            rows.push((rec, Outcome::Written, Some(id.clone())));
                        }
                    } else if self.req.dry_run {
                        self.plan_update(&rec, changes);
                    } else {
                        self.counts.to_write += 1;
                        self.queues[Kind::Update as usize].push_back(rec);
                    }
                }
                None if self.job.upsert && self.req.dry_run => self.plan_create(&rec),
                None if self.job.upsert => {
                    self.counts.to_write += 1;
                    self.queues[Kind::Upsert as usize].push_back(rec);
                }
                None => {
                    self.skip(&rec);
                    if !self.req.dry_run {
                        rows.push((rec, Outcome::Skipped, Some(String::new())));
                    }
                }
            }
        }
        self.keep(rows)
    }

    /// A dry run found a contact whose values differ: planned as an update.
    fn plan_update(&mut self, rec: &Rec, changes: Vec<PropertyChange>) {
        self.plan.to_update += 1;
        self.counts.to_write += 1;
        if self.plan.samples.update.len() < SAMPLES {
            self.plan.samples.update.push(rec.email.clone());
        }
        if self.plan.sample_changes.is_none() {
            self.plan.sample_changes = Some(SampleChanges { email: rec.email.clone(), changes });
        }
    }

    /// A dry run found no contact (upsert on): planned as a creation.
    fn plan_create(&mut self, rec: &Rec) {
        self.plan.to_create += 1;
        self.counts.to_write += 1;
        if self.plan.samples.create.len() < SAMPLES {
            self.plan.samples.create.push(rec.email.clone());
        }
        if self.plan.sample_changes.is_none() {
            let changes = rec
                .values
                .iter(&self.properties)
                .map(|(p, v)| PropertyChange {
                    property: p.to_owned(),
                    before: None,
                    after: Some(v.to_owned()),
                })
                .collect();
            self.plan.sample_changes = Some(SampleChanges { email: rec.email.clone(), changes });
        }
    }

    fn after_write(
        &mut self,
        kind: Kind,
        recs: Vec<Rec>,
        resp: BatchResponse<WrittenRecord>,
    ) -> Result<(), Error> {
        let mut by_trace: HashMap<String, &WrittenRecord> = HashMap::new();
        for r in &resp.results {
            if let Some(t) = &r.object_write_trace_id {
                by_trace.insert(t.clone(), r);
            }
        }
        // Errors by trace id, else by the input id (record id or email).
        let mut errors: HashMap<String, &crate::hubspot::models::ApiErrorBody> = HashMap::new();
        for e in &resp.errors {
            let (ids, traces) = error_keys(e);
            for k in traces
                .into_iter()
                .chain(ids.into_iter().map(|i| format!("id:{}", i.to_lowercase())))
            {
                errors.entry(k).or_insert(e);
            }
        }
        let mut rows: Vec<(Rec, Outcome, Option<String>)> = Vec::new();
        for (i, rec) in recs.into_iter().enumerate() {
            let trace = i.to_string();
            let input_id = match kind {
                Kind::Update => rec.hubspot_id.clone().unwrap_or_default(),
                _ => rec.email.clone(),
            };
            let err = errors
                .get(&trace)
                .or_else(|| errors.get(&format!("id:{}", input_id.to_lowercase())));
            if let Some(e) = err {
                let category = e.category.clone().or_else(|| e.error_type.clone());
                if kind == Kind::Update && category.as_deref() == Some("OBJECT_NOT_FOUND") {
                    // The contact was deleted or merged: forget the id and go by email.
                    let mut rec = rec;
                    rec.hubspot_id = None;
                    rows.push((rec.clone(), Outcome::Failed, Some(String::new())));
                    self.counts.to_write = self.counts.to_write.saturating_sub(1);
                    if self.job.upsert {
                        self.counts.to_write += 1;
                        self.queues[Kind::Upsert as usize].push_back(rec);
                    } else {
                        self.queues[Kind::Read as usize].push_back(rec);
                    }
                    continue;
                }
                let message =
                    e.message.clone().unwrap_or_else(|| "HubSpot refused this record".into());
                let detail = e
                    .errors
                    .iter()
                    .filter_map(|s| s.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                let message =
                    if detail.is_empty() { message } else { format!("{message} ({detail})") };
                self.fail(&rec, action_of(kind), category, message, e.correlation_id.clone());
                rows.push((rec, Outcome::Failed, None));
                continue;
            }
            let result = by_trace.get(&trace).copied();
            let id =
                result.map(|r| r.id.clone()).filter(|s| !s.is_empty()).or(rec.hubspot_id.clone());
            let created = result.and_then(|r| r.new).unwrap_or(false);
            self.counts.written += 1;
            if created {
                self.counts.created += 1;
            } else {
                self.counts.updated += 1;
            }
            rows.push((rec, Outcome::Written, id));
        }
        self.keep(rows)
    }

    fn flush_records(&mut self) -> Result<(), Error> {
        if !self.records.is_empty() {
            self.job.store.add_records(self.run_id, &self.records)?;
            self.records.clear();
        }
        self.job.store.save_counts(self.run_id, &self.counts)?;
        Ok(())
    }

    /// Whether a progress event is due: at most one every `progress_interval` (a fast listing
    /// reads thousands of pages a second), unless `force`; if so, it counts as sent.
    fn progress_due(&mut self, force: bool) -> bool {
        let now = Instant::now();
        if !force
            && self
                .last_progress
                .is_some_and(|t| now.duration_since(t) < self.cfg.progress_interval)
        {
            return false;
        }
        self.last_progress = Some(now);
        true
    }

    fn emit_progress(&mut self, phase: &str, force: bool) {
        if !self.progress_due(force) {
            return;
        }
        let elapsed = self.started.elapsed();
        let rate = self.counts.written as f64 / elapsed.as_secs_f64().max(1e-3);
        let left = self.counts.to_write.saturating_sub(self.counts.written + self.counts.failed);
        let c = self.counts;
        (self.on_progress)(SyncProgress::from_counts(
            self.run_id,
            phase,
            &c,
            rate,
            (rate > 0.0).then(|| left as f64 / rate),
            elapsed,
        ));
    }
}

fn action_of(kind: Kind) -> RecordAction {
    match kind {
        Kind::Upsert => RecordAction::Create,
        _ => RecordAction::Update,
    }
}

/// Sends one job with the pacer, retries and error classification. Returns the job back.
async fn run_job(
    hubspot: Arc<HubSpotClient>,
    pacer: Arc<Pacer>,
    cfg: EngineConfig,
    properties: Vec<String>,
    job: Job,
) -> (Job, Result<Answer, JobError>, Duration) {
    let mut tally = HubSpotTally::default();
    loop {
        let permit = pacer.acquire().await;
        let sent = Instant::now();
        // The body is written straight from the packed values, and a write's answer keeps
        // only ids: a request in flight holds its body and little else.
        let result = match job.kind {
            Kind::Read => {
                let emails: Vec<String> = job.recs.iter().map(|r| r.email.clone()).collect();
                hubspot.contacts_read_by_email(&emails, &properties).await.map(Answer::Read)
            }
            Kind::Update => {
                hubspot.contacts_update(&write_inputs(&job, &properties)).await.map(Answer::Written)
            }
            Kind::Upsert => {
                hubspot.contacts_upsert(&write_inputs(&job, &properties)).await.map(Answer::Written)
            }
        };
        drop(permit); // the answer is in: its round trip tells how long its place is held
        let took = sent.elapsed();
        if let Some(s) = hubspot.rate_limits() {
            pacer.observe(&s);
        }
        let e = match result {
            Ok(r) => return (job, Ok(r), took),
            Err(e) => e,
        };
        if let Some(failed) = after_failure(e, &mut tally, &hubspot, &pacer, &cfg).await {
            return (job, Err(failed), took);
        }
    }
}

/// What the scan gathered: each user's (email key, rank), the newest `updated_at` seen, and how
/// many users it read.
struct Scanned {
    keys: KeySorter,
    cutoff: i64,
    read: u64,
}

impl Scanned {
    fn note(
        &mut self,
        ouid: Option<&str>,
        id: &str,
        updated_at: Option<&str>,
    ) -> Result<(), Error> {
        self.read += 1;
        if let Ok(email) = normalize_email(ouid) {
            let r = rank(id, updated_at);
            self.cutoff = self.cutoff.max(r.0);
            self.keys.push(email_key(&email), r).map_err(spill_error)?;
        }
        Ok(())
    }
}

/// `job` on the runtime's workers, started at once, so that building a request and decoding
/// its answer run beside the engine's thread instead of on it. Dropping the returned future
/// aborts the job (as dropping the job itself would); a panic in it resumes here.
fn spawned<T: Send + 'static>(
    job: impl std::future::Future<Output = T> + Send + 'static,
) -> impl std::future::Future<Output = T> {
    let task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(job));
    async move {
        match task.await {
            Ok(out) => out,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: only the runtime shutting down does that, and it drops this future too.
            Err(_) => std::future::pending().await,
        }
    }
}

/// HubSpot's answer to a job: a read's contacts, or what a write wrote.
enum Answer {
    Read(BatchResponse),
    Written(BatchResponse<WrittenRecord>),
}

/// The inputs of a write job, their values seen through their packed form.
fn write_inputs<'a>(job: &'a Job, names: &'a [String]) -> Vec<WriteInput<PackedMap<'a>>> {
    let input = |i: usize, r: &'a Rec| {
        let (id, id_property) = match job.kind {
            Kind::Update => (r.hubspot_id.clone().unwrap_or_default(), None),
            _ => (r.email.clone(), Some("email".to_owned())),
        };
        WriteInput {
            id,
            id_property,
            properties: r.values.as_map(names),
            object_write_trace_id: i.to_string(),
        }
    };
    match job.kind {
        Kind::Read => Vec::new(),
        Kind::Update | Kind::Upsert => {
            job.recs.iter().enumerate().map(|(i, r)| input(i, r)).collect()
        }
    }
}

/// After a failed request: waits as the retry policy says and returns `None` (send again), or
/// says why the job failed.
async fn after_failure(
    e: crate::hubspot::Error,
    tally: &mut HubSpotTally,
    hubspot: &HubSpotClient,
    pacer: &Pacer,
    cfg: &EngineConfig,
) -> Option<JobError> {
    use crate::hubspot::Error as H;
    let category = match &e {
        H::Api { body, .. } => body.kind().map(str::to_owned),
        _ => None,
    };
    let correlation_id = e.correlation_id().map(str::to_owned);
    match tally.next(&e, pacer.window(), &cfg.retry()) {
        HubSpotStep::Pause(wait) => {
            tracing::debug!(?wait, "HubSpot 429; pausing every request");
            pacer.pause(wait).await;
            None
        }
        HubSpotStep::Retry(wait) => {
            tokio::time::sleep(wait).await;
            None
        }
        HubSpotStep::DailyLimit => {
            // (No account-details read for the time zone: it would be refused too.)
            let left = hubspot.rate_limits().and_then(|s| s.daily).map(|d| (0, d));
            Some(JobError::Fatal(daily_limit_error(left, None, SyncDirection::Push)))
        }
        HubSpotStep::GiveUp if matches!(e, H::Api { status: 429, .. }) => {
            Some(JobError::Fatal(e.into()))
        }
        HubSpotStep::GiveUp => {
            let attempts = tally.attempts;
            let message = match &e {
                H::Api { .. } => format!("HubSpot kept failing ({e}) after {attempts} attempts; the next push retries this record first"),
                _ => format!("HubSpot could not be reached or answered garbage ({e}) after {attempts} attempts; the next push retries this record first"),
            };
            let (category, correlation_id) = match &e {
                H::Api { .. } => (category, correlation_id),
                _ => (None, None),
            };
            Some(JobError::Exhausted { category, message, correlation_id })
        }
        HubSpotStep::Stop => {
            if matches!(e, H::Api { status: 401 | 403, .. }) || !matches!(e, H::Api { .. }) {
                return Some(JobError::Fatal(e.into()));
            }
            let message = e.to_string();
            Some(JobError::Rejected { category, message, correlation_id })
        }
    }
}

/// Retries a Didomi call on transient failures (5xx, 429, transport, malformed).
async fn didomi_retry<T, F, Fut>(
    cfg: &EngineConfig,
    cancel: &CancellationToken,
    call: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::didomi::Result<T>>,
{
    crate::run::retry::didomi_retry(&cfg.retry(), cancel, call).await.map_err(Error::from)
}

/// A page of users for the engine; `first` for those of the failed-first fetch.
#[derive(Debug)]
struct Page {
    users: Vec<ConsentUser>,
    first: bool,
}

/// `2026-01-02T03:04:05.678Z` as it is, or "an unknown time".
fn show(updated: &str) -> &str {
    if updated.is_empty() {
        "an unknown time"
    } else {
        updated
    }
}

/// The users whose `organization_user_id` is exactly `ouid` (Didomi's filter), with retries.
async fn users_by_ouid(
    didomi: &Arc<DidomiClient>,
    cfg: &EngineConfig,
    cancel: &CancellationToken,
    ouid: &str,
) -> Result<Vec<ConsentUser>, Error> {
    didomi_retry(cfg, cancel, || {
        let (d, ouid) = (didomi.clone(), ouid.to_owned());
        async move { d.users_by_organization_user_id(&ouid).await }
    })
    .await
}

/// The reader task: failed people first, then every page of users (or, for a run of one, only
/// the users of `only`); `cursors` are the scan's (see [`read_listing`]).
async fn read_users(
    didomi: Arc<DidomiClient>,
    cfg: EngineConfig,
    failed_first: Vec<String>,
    only: Option<Vec<String>>,
    cursors: Cursors,
    tx: tokio::sync::mpsc::Sender<Result<Page, Error>>,
    cancel: CancellationToken,
) {
    if let Some(only) = only {
        match users_of(&didomi, &cfg, &cancel, &only).await {
            Ok(users) => {
                let _ = tx.send(Ok(Page { users, first: false })).await;
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
            }
        }
        return;
    }
    for chunk in failed_first.chunks(100) {
        let page = users_of(&didomi, &cfg, &cancel, chunk).await;
        if cancel.is_cancelled() {
            return;
        }
        let failed = page.is_err();
        if tx.send(page.map(|users| Page { users, first: true })).await.is_err() || failed {
            return;
        }
    }
    let fetch = |c| listing_page(didomi.clone(), cfg.clone(), cancel.clone(), c);
    if let Err(e) = read_listing(fetch, cursors, &tx, &cancel).await {
        let _ = tx.send(Err(e)).await;
    }
}

/// The users of each of `ouids` (Didomi's exact filter), one request each.
async fn users_of(
    didomi: &Arc<DidomiClient>,
    cfg: &EngineConfig,
    cancel: &CancellationToken,
    ouids: &[String],
) -> Result<Vec<ConsentUser>, Error> {
    let mut users = Vec::new();
    for ouid in ouids {
        users.extend(users_by_ouid(didomi, cfg, cancel, ouid).await?);
        if cancel.is_cancelled() {
            break;
        }
    }
    Ok(users)
}

/// Pages of the listing read at once by the writing pass (≈ 200 KB each in flight).
const PAGES_AHEAD: usize = 8;

/// One page of the listing, with retries.
async fn listing_page<U: serde::de::DeserializeOwned + Default>(
    didomi: Arc<DidomiClient>,
    cfg: EngineConfig,
    cancel: CancellationToken,
    cursor: Option<String>,
) -> Result<crate::didomi::consents::UsersPage<U>, Error> {
    didomi_retry(&cfg, &cancel, || {
        let (d, c) = (didomi.clone(), cursor.clone());
        async move { d.users_page(c.as_deref()).await }
    })
    .await
}

/// Sends every page of the listing, in order, each page read by `fetch` from a cursor (`None`:
/// the first). Didomi's cursor pages chain (each page names the next), so one reader alone waits
/// a round trip per page; the scan's `cursors` (the cursor each page returned) let up to
/// [`PAGES_AHEAD`] pages be read at once instead. Each page read so is checked: the cursor it
/// returns must be the one the scan saw after it (the one the next page was read from), so the
/// pages sent are exactly the ones a reader following the cursors would read. When a page's
/// cursor differs (the listing changed since the scan), the pages read ahead of it are dropped
/// and the rest is read one page after another from the cursor it returned.
async fn read_listing<F, Fut>(
    fetch: F,
    cursors: impl IntoIterator<Item = std::io::Result<String>>,
    tx: &tokio::sync::mpsc::Sender<Result<Page, Error>>,
    cancel: &CancellationToken,
) -> Result<(), Error>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<crate::didomi::consents::UsersPage, Error>>,
{
    let mut cursors = cursors.into_iter();
    let next_of = |p: &crate::didomi::consents::UsersPage| {
        p.cursor.clone().filter(|c| !c.is_empty() && !p.data.is_empty())
    };
    let mut ahead = FuturesOrdered::new();
    // For each page asked for, the cursor the scan saw after it (`None`: it was the last).
    let mut expected = VecDeque::with_capacity(PAGES_AHEAD);
    // The cursor the next page is read from (`Some(None)`: the first page); `None` once every
    // page the scan saw is asked for.
    let mut start: Option<Option<String>> = Some(None);
    let mut cursor: Option<String> = loop {
        while ahead.len() < PAGES_AHEAD {
            let Some(from) = start.take() else { break };
            ahead.push_back(fetch(from));
            let after = cursors.next().transpose().map_err(spill_error)?;
            start = after.clone().map(Some);
            expected.push_back(after);
        }
        let Some(page) = ahead.next().await else { return Ok(()) };
        let page = page?;
        let want = expected.pop_front().flatten();
        let got = next_of(&page);
        if tx.send(Ok(Page { users: page.data, first: false })).await.is_err() {
            return Ok(());
        }
        if got != want {
            break got; // the listing changed: what was read ahead is not what follows
        }
        if got.is_none() || cancel.is_cancelled() {
            return Ok(());
        }
    };
    drop(ahead);
    while let Some(c) = cursor.take() {
        if cancel.is_cancelled() {
            return Ok(());
        }
        let page = fetch(Some(c)).await?;
        cursor = next_of(&page);
        if tx.send(Ok(Page { users: page.data, first: false })).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Now as RFC 3339 (UTC).
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let cfg = EngineConfig { backoff_max: Duration::from_secs(2), ..EngineConfig::default() };
        let base = Duration::from_millis(100);
        for attempt in 1..=10 {
            let d = cfg.retry().delay(base, attempt);
            let nominal = (base * (1 << (attempt - 1))).min(cfg.backoff_max);
            assert!(
                d >= nominal.mul_f64(0.5) && d <= nominal.mul_f64(1.5),
                "attempt {attempt}: {d:?} around {nominal:?}"
            );
        }
    }

    mod listing {
        use super::*;
        use crate::didomi::consents::UsersPage;
        use proptest::prelude::*;
        use std::sync::Mutex;

        /// Didomi's listing as the simulator keeps it: slots (`None`: a removed user), a page of
        /// 3, a cursor naming the slot the next page starts at; with `sessions`, a cursor also
        /// carries a number that changes with every request (nothing read ahead can be checked).
        struct Listing {
            slots: Vec<Option<u32>>,
            sessions: bool,
            calls: u32,
        }

        impl Listing {
            fn page(&mut self, cursor: Option<&str>) -> UsersPage {
                self.calls += 1;
                let from: usize =
                    cursor.map_or(0, |c| c.split(':').next().unwrap().parse().unwrap());
                let mut slot = from;
                let mut data = Vec::new();
                while slot < self.slots.len() && data.len() < 3 {
                    if let Some(id) = self.slots[slot] {
                        data.push(ConsentUser { id: id.to_string(), ..ConsentUser::default() });
                    }
                    slot += 1;
                }
                while slot < self.slots.len() && self.slots[slot].is_none() {
                    slot += 1;
                }
                let tag = if self.sessions { format!(":{}", self.calls) } else { String::new() };
                let cursor = (slot < self.slots.len()).then(|| format!("{slot}{tag}"));
                UsersPage { data, limit: Some(3), cursor }
            }

            /// One reader following the cursors: the ids, page by page.
            fn sequential(&mut self) -> (Vec<Vec<String>>, Vec<String>) {
                let (mut pages, mut cursors, mut c) = (Vec::new(), Vec::new(), None::<String>);
                loop {
                    let p = self.page(c.as_deref());
                    pages.push(p.data.iter().map(|u| u.id.clone()).collect());
                    match p.cursor.filter(|_| !p.data.is_empty()) {
                        Some(n) => {
                            cursors.push(n.clone());
                            c = Some(n);
                        }
                        None => return (pages, cursors),
                    }
                }
            }
        }

        /// The pages `read_listing` sends, and the most requests it had out at once.
        async fn read(
            listing: &Arc<Mutex<Listing>>,
            cursors: &[String],
        ) -> (Vec<Vec<String>>, usize) {
            let (tx, mut rx) = tokio::sync::mpsc::channel(1000);
            let out = Arc::new(Mutex::new((0usize, 0usize))); // (now, most)
            let fetch = |c: Option<String>| {
                let (l, out) = (listing.clone(), out.clone());
                async move {
                    {
                        let mut o = out.lock().unwrap();
                        o.0 += 1;
                        o.1 = o.1.max(o.0);
                    }
                    tokio::task::yield_now().await;
                    out.lock().unwrap().0 -= 1;
                    Ok(l.lock().unwrap().page(c.as_deref()))
                }
            };
            let cursors = cursors.iter().cloned().map(Ok);
            read_listing(fetch, cursors, &tx, &CancellationToken::new()).await.expect("read");
            drop(tx);
            let mut pages = Vec::new();
            while let Some(p) = rx.recv().await {
                pages.push(p.expect("page").users.into_iter().map(|u| u.id).collect());
            }
            let most = out.lock().unwrap().1;
            (pages, most)
        }

        proptest! {
            /// Whatever changed between the scan and the writing pass (users removed, created),
            /// the pages read ahead from the scan's cursors are the pages one reader following
            /// the cursors would read now, in order.
            #[test]
            fn reading_ahead_reads_what_following_the_cursors_reads(
                users in 0usize..60,
                removed in proptest::collection::vec(0usize..60, 0..8),
                created in 0usize..7,
                sessions in any::<bool>(),
            ) {
                let slots = (0..users as u32).map(Some).collect();
                let listing = Arc::new(Mutex::new(Listing { slots, sessions, calls: 0 }));
                let (_, cursors) = listing.lock().unwrap().sequential(); // the scan
                {
                    let mut l = listing.lock().unwrap();
                    for r in &removed {
                        if let Some(s) = l.slots.get_mut(*r) {
                            *s = None;
                        }
                    }
                    for i in 0..created as u32 {
                        l.slots.push(Some(1000 + i));
                    }
                }
                let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
                let (got, _) = rt.block_on(read(&listing, &cursors));
                let (want, _) = listing.lock().unwrap().sequential();
                prop_assert_eq!(got, want);
            }
        }

        #[tokio::test]
        async fn an_unchanged_listing_is_read_several_pages_at_once() {
            let slots = (0..100).map(Some).collect();
            let listing = Arc::new(Mutex::new(Listing { slots, sessions: false, calls: 0 }));
            let (want, cursors) = listing.lock().unwrap().sequential();
            let before = listing.lock().unwrap().calls;
            let (got, most) = read(&listing, &cursors).await;
            assert_eq!(got, want, "the same pages");
            assert_eq!(listing.lock().unwrap().calls - before, 34, "each page read once");
            assert_eq!(most, PAGES_AHEAD, "{PAGES_AHEAD} pages read at once");
        }
    }

    #[test]
    fn scaled_config_divides_the_window() {
        let c = EngineConfig::default().scaled(10.0);
        assert_eq!(c.rate_window, Duration::from_secs(1), "window ÷ time scale");
        assert!(c.pacer().per_second() > 100.0 && c.pacer().per_second() <= 110.0, "≈110 req/s");
    }
}
