//! Auto-sync of the facade: the interval lives in the settings (`options.autoSyncMinutes`,
//! every settings write updates the scheduler through a watch channel), the scheduler loop is
//! [`crate::run::auto::schedule`], and one auto run is [`Runs::auto_sync_once`]: an
//! incremental push, then a pull when the bidirectional flow is on — the same runs, history and
//! running mark as a sync started by hand (so the Sync screen's Cancel stops an auto run, and
//! an auto run never starts while another sync runs).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{lock, now_rfc3339, rfc3339, Runs};
use crate::error::{Error, ErrorCode};
use crate::run::auto::{
    check_interval, interval_of, schedule, AutoSyncOutcome, AutoSyncRun, AutoSyncStatus,
};
use crate::run::dto::{RunSummary, SyncDirection, SyncProgress, SyncRequest};

/// Told every time the auto-sync status changes (the shell emits it to the window).
type AutoSyncListener = Arc<dyn Fn(AutoSyncStatus) + Send + Sync>;

/// The facade's auto-sync state.
pub(crate) struct AutoSync {
    interval: watch::Sender<Option<Duration>>,
    status: Mutex<AutoSyncStatus>,
    listener: Mutex<Option<AutoSyncListener>>,
}

impl AutoSync {
    pub(crate) fn new(minutes: Option<u32>) -> Self {
        Self {
            interval: watch::channel(interval_of(minutes)).0,
            status: Mutex::new(AutoSyncStatus {
                interval_minutes: minutes,
                ..AutoSyncStatus::default()
            }),
            listener: Mutex::new(None),
        }
    }

    /// The settings now say `minutes`: tell the scheduler when that changes it.
    pub(crate) fn settings_changed(&self, minutes: Option<u32>) {
        let changed = self.interval.send_if_modified(|d| {
            let new = interval_of(minutes);
            let changed = *d != new;
            *d = new;
            changed
        });
        if changed {
            self.update(|s| {
                s.interval_minutes = minutes;
                if minutes.is_none() {
                    s.next_run_at = None;
                }
            });
        }
    }

    fn update(&self, change: impl FnOnce(&mut AutoSyncStatus)) {
        let snapshot = {
            let mut s = lock(&self.status);
            change(&mut s);
            s.revision += 1;
            s.clone()
        };
        let listener = lock(&self.listener).clone();
        if let Some(l) = listener {
            l(snapshot);
        }
    }
}

/// Errors that mean "not ready to sync" rather than "the sync failed".
fn is_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::HubSpotNotConnected
            | ErrorCode::HubSpotReconnectNeeded
            | ErrorCode::HubSpotMissingScopes
            | ErrorCode::DidomiNotConnected
            | ErrorCode::MappingEmpty
            | ErrorCode::MappingStale
            | ErrorCode::SyncAlreadyRunning
            | ErrorCode::BidirectionalOff
            // HubSpot's daily budget is kept for the account's other apps until it resets.
            | ErrorCode::HubSpotDailyLimit
    )
}

/// One line per run: "Push: succeeded, 3 written, 0 failed".
fn describe(runs: &[RunSummary]) -> String {
    runs.iter()
        .map(|r| {
            let what = match r.direction {
                SyncDirection::Push => "Push",
                SyncDirection::Pull | SyncDirection::Both => "Pull",
            };
            let status = format!("{:?}", r.status).to_lowercase();
            let mut line = format!(
                "{what} #{}: {status}, {} written, {} failed",
                r.id, r.counts.written, r.counts.failed
            );
            if let Some(m) = &r.message {
                line.push_str(&format!(" ({m})"));
            }
            line
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

impl Runs {
    /// What the Sync screen shows about auto-sync.
    pub fn auto_sync_status(&self) -> AutoSyncStatus {
        lock(&self.shared.auto.status).clone()
    }

    /// Turns auto-sync on every `minutes` minutes (at least 5, at most a day), or off (`None`),
    /// and saves it. The next run is `minutes` from now.
    ///
    /// # Errors
    /// `InvalidInput` for an interval out of range; `SettingsInvalid` when it cannot be saved.
    pub fn auto_sync_set(&self, minutes: Option<u32>) -> Result<AutoSyncStatus, Error> {
        check_interval(minutes)?;
        self.shared.update_settings(|s| s.options.auto_sync_minutes = minutes)?;
        tracing::info!(?minutes, "auto-sync set");
        Ok(self.auto_sync_status())
    }

    /// Tells `listener` every auto-sync status change from now on (next run time, progress,
    /// the last run), and the current status at once. Replaces the previous listener (a
    /// reloaded window subscribes again).
    pub fn auto_sync_listen(&self, listener: impl Fn(AutoSyncStatus) + Send + Sync + 'static) {
        listener(self.auto_sync_status());
        *lock(&self.shared.auto.listener) = Some(Arc::new(listener));
    }

    /// The scheduler: to be spawned once by the shell; runs until `stop` fires (the app quits).
    pub fn auto_sync_scheduler(
        &self,
        stop: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static {
        let interval = self.shared.auto.interval.subscribe();
        let this = self.this.clone();
        let on_wait = {
            let this = this.clone();
            move |d: Option<Duration>| {
                if let Some(core) = this.upgrade() {
                    let next = d.map(|d| rfc3339(time::OffsetDateTime::now_utc() + d));
                    core.shared.auto.update(|s| s.next_run_at = next);
                }
            }
        };
        let stop_runs = stop.clone();
        let run = move || {
            let this = this.clone();
            // A run stops with the app; the Sync screen's Cancel stops only the run.
            let cancel = stop_runs.child_token();
            async move {
                if let Some(core) = this.upgrade() {
                    core.auto_sync_once(cancel).await;
                }
            }
        };
        schedule(interval, stop, on_wait, run)
    }

    /// One auto run: an incremental push, then a pull when the bidirectional flow is on. Never
    /// fails: what happened (or why nothing ran) is the returned record, also kept as the
    /// status's `last`.
    pub async fn auto_sync_once(&self, cancel: CancellationToken) -> AutoSyncRun {
        let started_at = now_rfc3339();
        self.shared.auto.update(|s| {
            s.running = true;
            s.progress = None;
            s.next_run_at = None;
        });
        let this = self.this.clone();
        let on_progress = move |p: SyncProgress| {
            if let Some(core) = this.upgrade() {
                core.shared.auto.update(|s| s.progress = Some(p));
            }
        };
        let result = if self.shared.settings().options.bidirectional {
            self.push_then_pull(false, on_progress, cancel).await.map(|(push, pull)| {
                let mut runs = vec![push.summary];
                runs.extend(pull.map(|p| p.run.summary));
                runs
            })
        } else {
            self.push_run(
                SyncRequest { direction: SyncDirection::Push, dry_run: false, full: false },
                on_progress,
                cancel,
            )
            .await
            .map(|r| vec![r.summary])
        };
        let (outcome, message, run_ids) = match result {
            Ok(runs) => {
                let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
                let marked = self
                    .resources
                    .store(&self.shared.env.data_dir)
                    .and_then(|s| Ok(s.mark_auto(&ids)?));
                if let Err(e) = marked {
                    // History then shows them as started by hand; nothing else depends on it.
                    tracing::warn!(error = %e, "could not mark the auto runs in History");
                }
                let statuses: Vec<_> = runs.iter().map(|r| r.status).collect();
                (
                    AutoSyncOutcome::of(&statuses),
                    describe(&runs),
                    runs.iter().map(|r| r.id).collect(),
                )
            }
            Err(e) if is_refusal(e.code) => (
                AutoSyncOutcome::Skipped,
                format!("Nothing ran: {} Auto-sync tries again at the next interval.", e.message),
                Vec::new(),
            ),
            Err(e) => (AutoSyncOutcome::Failed, e.message.clone(), Vec::new()),
        };
        tracing::info!(?outcome, %message, "auto-sync run ended");
        let run = AutoSyncRun { started_at, finished_at: now_rfc3339(), outcome, message, run_ids };
        self.shared.auto.update(|s| {
            s.running = false;
            s.progress = None;
            s.last = Some(run.clone());
        });
        run
    }
}
