//! Auto-sync while the app is open: off by default; the admin sets an interval of
//! [`AUTO_SYNC_MIN_MINUTES`] minutes or more. Each auto run is an incremental push, followed by
//! a pull when the bidirectional flow is on; both land in History like runs started by hand.
//!
//! The [`schedule`] loop is pure timing (no I/O, testable with tokio's paused clock): it waits
//! the interval after auto-sync is turned on and after each run ENDS (a long run never overlaps
//! the next), restarts its wait when the interval changes, sleeps while auto-sync is off, and
//! stops when its cancel token fires (the app quits). What a run does is the facade's
//! (`Runs::auto_sync_once`).

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::Error;
use crate::run::dto::{RunStatus, SyncProgress};
use crate::settings::{AUTO_SYNC_MAX_MINUTES, AUTO_SYNC_MIN_MINUTES};

/// How an auto run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum AutoSyncOutcome {
    /// Every run succeeded.
    Succeeded,
    /// Some records failed; see the runs in History.
    Partial,
    /// A run stopped on an error.
    Failed,
    /// Cancelled from the Sync screen.
    Cancelled,
    /// Nothing ran (not connected, nothing mapped, a sync started by hand was running…).
    Skipped,
}

impl AutoSyncOutcome {
    /// The outcome of runs that ended with these statuses (the worst wins).
    pub fn of(statuses: &[RunStatus]) -> Self {
        let has = |s: RunStatus| statuses.contains(&s);
        if has(RunStatus::Failed) || has(RunStatus::Interrupted) {
            Self::Failed
        } else if has(RunStatus::Cancelled) {
            Self::Cancelled
        } else if has(RunStatus::Partial) {
            Self::Partial
        } else {
            Self::Succeeded
        }
    }
}

/// The last auto run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AutoSyncRun {
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end.
    pub finished_at: String,
    /// How it ended.
    pub outcome: AutoSyncOutcome,
    /// What happened, or why nothing ran and what to do.
    pub message: String,
    /// The History runs it made (push, then pull).
    #[ts(type = "number[]")]
    pub run_ids: Vec<i64>,
}

/// What the Sync screen shows about auto-sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AutoSyncStatus {
    /// Grows with every change, so a reader holding two statuses (a command's answer and the
    /// stream, which may arrive in either order) keeps the newer one.
    #[ts(type = "number")]
    pub revision: u64,
    /// The interval in minutes; `None` = off.
    pub interval_minutes: Option<u32>,
    /// When the next auto run starts (RFC 3339), while on and idle.
    pub next_run_at: Option<String>,
    /// An auto run is going.
    pub running: bool,
    /// Its progress.
    pub progress: Option<SyncProgress>,
    /// The last auto run since the app started.
    pub last: Option<AutoSyncRun>,
}

/// Checks an interval the admin chose.
///
/// # Errors
/// [`crate::error::ErrorCode::InvalidInput`] naming the allowed range.
pub fn check_interval(minutes: Option<u32>) -> Result<(), Error> {
    match minutes {
        Some(m) if m < AUTO_SYNC_MIN_MINUTES => Err(Error::invalid_input(format!(
            "The auto-sync interval must be at least {AUTO_SYNC_MIN_MINUTES} minutes (HubSpot's search allows few requests); choose {AUTO_SYNC_MIN_MINUTES} or more, or turn auto-sync off."
        ))),
        Some(m) if m > AUTO_SYNC_MAX_MINUTES => Err(Error::invalid_input(format!(
            "The auto-sync interval can be at most {AUTO_SYNC_MAX_MINUTES} minutes (one day); choose a shorter interval."
        ))),
        _ => Ok(()),
    }
}

/// The interval as the scheduler takes it.
pub fn interval_of(minutes: Option<u32>) -> Option<Duration> {
    minutes.map(|m| Duration::from_secs(u64::from(m) * 60))
}

/// Runs `run` every `interval` (as the watch says now) until `cancel` fires. `on_wait` is told
/// each wait before it starts (`Some(d)`: the next run is in `d`; `None`: auto-sync is off).
pub async fn schedule<F, Fut>(
    mut interval: watch::Receiver<Option<Duration>>,
    cancel: CancellationToken,
    mut on_wait: impl FnMut(Option<Duration>),
    mut run: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        let current = *interval.borrow_and_update();
        on_wait(current);
        let due = async {
            match current {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = interval.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = due => {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = run() => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    /// A scheduler under test: its interval sender, run count, waits told, stop and task.
    struct Started {
        tx: watch::Sender<Option<Duration>>,
        runs: Arc<AtomicU32>,
        waits: Arc<Mutex<Vec<Option<Duration>>>>,
        cancel: CancellationToken,
        task: tokio::task::JoinHandle<()>,
    }

    /// Starts the scheduler with `interval` and runs that take `run_takes`.
    fn start(interval: Option<Duration>, run_takes: Duration) -> Started {
        let (tx, rx) = watch::channel(interval);
        let runs = Arc::new(AtomicU32::new(0));
        let waits = Arc::new(Mutex::new(Vec::new()));
        let cancel = CancellationToken::new();
        let (r, w) = (runs.clone(), waits.clone());
        let task = tokio::spawn(schedule(
            rx,
            cancel.clone(),
            move |d| w.lock().unwrap().push(d),
            move || {
                let r = r.clone();
                async move {
                    tokio::time::sleep(run_takes).await;
                    r.fetch_add(1, Ordering::SeqCst);
                }
            },
        ));
        Started { tx, runs, waits, cancel, task }
    }

    async fn at(minutes: u64) {
        // Step in small increments so every timer due on the way fires in order.
        for _ in 0..minutes * 60 {
            tokio::time::advance(Duration::from_secs(1)).await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn off_by_default_never_runs() {
        let Started { tx: _tx, runs, waits, cancel, task } = start(None, Duration::ZERO);
        at(120).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "nothing runs while off");
        assert_eq!(waits.lock().unwrap().as_slice(), &[None], "told it is off");
        cancel.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn runs_every_interval_after_the_previous_run_ended() {
        // 10-minute interval, runs of 2 minutes: starts at 10, 22, 34 (not 10, 20, 30).
        let Started { tx: _tx, runs, cancel, task, .. } = start(Some(10 * MIN), 2 * MIN);
        at(9).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not before the first interval");
        at(4).await; // 13: the first run ended at 12
        assert_eq!(runs.load(Ordering::SeqCst), 1, "first run at 10 min");
        at(10).await; // 23: the second run started at 22, runs until 24
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the next waits for the end of the previous");
        at(2).await; // 25
        assert_eq!(runs.load(Ordering::SeqCst), 2, "second run ended at 24");
        cancel.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_interval_restarts_the_wait_and_off_stops() {
        let Started { tx, runs, waits, cancel, task } = start(Some(30 * MIN), Duration::ZERO);
        at(20).await;
        tx.send(Some(5 * MIN)).unwrap();
        at(4).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "the wait restarted at 20 min");
        at(2).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "ran 5 min after the change");
        tx.send(None).unwrap();
        at(60).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "off: no more runs");
        assert_eq!(
            waits.lock().unwrap().last().copied(),
            Some(None),
            "told it is off after the change"
        );
        cancel.cancel();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn cancel_stops_a_waiting_or_running_scheduler() {
        let Started { tx: _tx, runs, cancel, task, .. } = start(Some(5 * MIN), 10 * MIN);
        at(6).await; // running
        cancel.cancel();
        task.await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 0, "the run in flight was dropped");
    }

    #[test]
    fn intervals_are_checked() {
        assert!(check_interval(None).is_ok());
        assert!(check_interval(Some(5)).is_ok());
        assert!(check_interval(Some(4)).is_err(), "under 5 minutes");
        assert!(check_interval(Some(24 * 60 + 1)).is_err(), "over a day");
        assert_eq!(interval_of(Some(5)), Some(Duration::from_secs(300)));
    }

    #[test]
    fn the_worst_status_wins() {
        use RunStatus::{Cancelled, Failed, Partial, Succeeded};
        assert_eq!(AutoSyncOutcome::of(&[Succeeded, Succeeded]), AutoSyncOutcome::Succeeded);
        assert_eq!(AutoSyncOutcome::of(&[Succeeded, Partial]), AutoSyncOutcome::Partial);
        assert_eq!(AutoSyncOutcome::of(&[Cancelled, Partial]), AutoSyncOutcome::Cancelled);
        assert_eq!(AutoSyncOutcome::of(&[Partial, Failed]), AutoSyncOutcome::Failed);
    }
}
