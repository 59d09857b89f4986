//! HubSpot's rate-limit headers (reference §4.1–4.2) steer the push and the pull: a private app
//! on a Professional account is paced at the 190 per 10 s HubSpot states, not the 100 assumed
//! for Free/Starter; another consumer draining the same window makes the pacer wait instead of
//! taking 429s; a daily allowance nearly used up stops the run cleanly (in the history, with the
//! message) and the next run, after HubSpot's reset, picks up the rest.
//!
//! Measured on the simulator's own counters (its rolling window, its 429 counts), sampled while
//! the push runs, at a time scale where the rate limit, not the machine, is the bottleneck.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dhs_core::mapping::DidomiItem;
use dhs_core::pull::PullSettings;
use dhs_core::push::{EngineConfig, PushJob};
use dhs_core::run::RunStatus;
use dhs_core::{ErrorCode, SyncDirection};
use dhs_simulator::hubspot::limits::App;
use dhs_simulator::Config;
use dhs_tests::{
    pull_job, push, push_request, run_pull, simulate_workflow, start_connected_with, test_engine,
    test_pull_config, Harness,
};

use crate::sync_push::{assert_hubspot_holds, expected};

/// 10 s ÷ 5: a 2 s window, so 190 requests per window ask ~95 requests/s of the machine.
const SCALE: f64 = 5.0;

/// A Professional account: the private app's own 190 per 10 s, 625,000 calls a day.
fn professional(users: u64) -> Config {
    Config {
        users,
        time_scale: SCALE,
        hubspot_private_app_requests_per_10s: 190,
        hubspot_private_app_daily: 625_000,
        ..Config::default()
    }
}

/// One request per contact (batches of 1), so a few hundred people make several windows of
/// requests; `rate_limit` is what the engine assumes before HubSpot's first answer.
fn engine(rate_limit: u32) -> EngineConfig {
    EngineConfig { rate_limit, batch_size: 1, ..test_engine(SCALE) }
}

/// Samples the simulator's rolling window of the private app every 10 ms while `running`;
/// returns the most requests it ever held at once.
fn sample_peak(h: &Harness, running: Arc<AtomicBool>) -> tokio::task::JoinHandle<u32> {
    let hubspot = h.sim.hubspot.clone();
    tokio::spawn(async move {
        let mut peak = 0;
        while running.load(Ordering::SeqCst) {
            let u = hubspot.rate_limit_usage(App::Private);
            peak = peak.max(u.max - u.remaining);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        peak
    })
}

/// Private-app requests the simulator admitted so far (every route but search).
fn requests(h: &Harness) -> u64 {
    let s = h.sim.hubspot.stats();
    s.requests.iter().filter(|(k, _)| *k != "contacts.search").map(|(_, v)| v).sum::<u64>()
        - s.rate_limited_ten_secondly
        - s.rate_limited_daily
}

/// Waits one (scaled) window so the setup's requests leave it.
async fn quiet_window() {
    tokio::time::sleep(Duration::from_secs(10).div_f64(SCALE) + Duration::from_millis(50)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_professional_private_app_is_paced_at_190_per_window_not_100() {
    let h = start_connected_with(professional(1000)).await;
    let cfg = engine(100); // what the app assumes for a private app
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    quiet_window().await;
    let running = Arc::new(AtomicBool::new(true));
    let sampler = sample_peak(&h, running.clone());
    let before = requests(&h);
    let t0 = std::time::Instant::now();
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    let elapsed = t0.elapsed();
    running.store(false, Ordering::SeqCst);
    let peak = sampler.await.expect("sampler");
    let sent = requests(&h) - before;
    let windows = elapsed.as_secs_f64() / (10.0 / SCALE);
    eprintln!(
        "professional push: {sent} requests in {elapsed:?} ({windows:.2} windows; at 100 per window it needs {} window rolls), busiest window held {peak}, pacer limit {}",
        sent.div_ceil(100) - 1,
        job.pacer.limit()
    );
    assert_eq!(r.summary.status, RunStatus::Succeeded, "{:?}", r.summary);
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone written");
    assert!(sent > 2 * 190, "enough requests for several windows: {sent}");
    assert_eq!(job.pacer.limit(), 190, "the pacer took HubSpot's stated Max");
    assert!(
        peak > 150 && peak <= 190,
        "HubSpot's window held up to {peak} of our requests: the stated 190, not the assumed 100"
    );
    assert_eq!(h.sim.hubspot.stats().rate_limited(), 0, "and never more than HubSpot allows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_consumer_draining_the_window_makes_the_push_wait_instead_of_taking_429s() {
    let h = start_connected_with(professional(700)).await;
    // The pacer starts at the full 190: only the Remaining header can tell it about the other.
    let cfg = engine(190);
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    quiet_window().await;
    // Another process with the same private app drains most of the window just before the
    // push, then keeps sending 8 requests every tenth of a window (80 per window, as far as
    // they fit).
    let (drained, _) = h.sim.hubspot.consume_rate_limit(App::Private, 120);
    assert_eq!(drained, 120, "the window was free");
    let running = Arc::new(AtomicBool::new(true));
    let (tried, taken) = (Arc::new(AtomicU32::new(120)), Arc::new(AtomicU32::new(120)));
    let other = {
        let (hubspot, running) = (h.sim.hubspot.clone(), running.clone());
        let (tried, taken) = (tried.clone(), taken.clone());
        tokio::spawn(async move {
            while running.load(Ordering::SeqCst) {
                let (n, _) = hubspot.consume_rate_limit(App::Private, 8);
                tried.fetch_add(8, Ordering::SeqCst);
                taken.fetch_add(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1).div_f64(SCALE)).await;
            }
        })
    };
    let before = requests(&h);
    let t0 = std::time::Instant::now();
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    let elapsed = t0.elapsed();
    running.store(false, Ordering::SeqCst);
    other.await.expect("other consumer");
    let stats = h.sim.hubspot.stats();
    let ours = requests(&h) - before;
    let (tried, taken) = (tried.load(Ordering::SeqCst), taken.load(Ordering::SeqCst));
    eprintln!(
        "shared window: {ours} requests of ours in {elapsed:?}, the other consumer got {taken} of {tried} in, 429s {}",
        stats.rate_limited_ten_secondly
    );
    assert_eq!(r.summary.status, RunStatus::Succeeded, "{:?}", r.summary);
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone written");
    assert!(taken > 120, "the other consumer kept using the window: {taken} of {tried}");
    assert!(
        stats.rate_limited_ten_secondly <= 2,
        "the pacer waits for the window instead of running into 429s: {}",
        stats.rate_limited_ten_secondly
    );
}

/// A Free/Starter account with a small daily allowance (20,000 a day: the app's reserve is its
/// floor, 1,000 calls), so tests can bring it near its end.
async fn small_daily_allowance(users: u64) -> Harness {
    start_connected_with(Config {
        users,
        time_scale: SCALE,
        hubspot_private_app_daily: 20_000,
        ..Config::default()
    })
    .await
}

/// The account's other private apps used the day's calls but `left`.
fn use_daily_until(h: &Harness, left: u64) {
    h.sim.hubspot.set_daily_used(20_000 - left);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_daily_remaining_stops_the_push_cleanly_and_the_next_run_resumes() {
    let h = small_daily_allowance(300).await;
    let cfg = EngineConfig { batch_size: 2, ..test_engine(SCALE) };
    let job: PushJob = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    use_daily_until(&h, 1_000 + 40); // 40 calls above the reserve
    let err = push(&job, push_request(false, false), &cfg).await.expect_err("the push stops");
    eprintln!("daily stop: {}", err.message);
    assert_eq!(err.code, ErrorCode::HubSpotDailyLimit, "{err:?}");
    for part in [
        "calls are left today",
        "keeps the last 1,000",
        "the push stopped",
        "the next push picks up the rest",
        "at midnight in the account's time zone (Europe/Paris)",
    ] {
        assert!(err.message.contains(part), "the message says {part:?}: {}", err.message);
    }
    let left = 20_000 - h.sim.hubspot.daily_used();
    assert!(
        (990..1_000).contains(&left),
        "stopped at the reserve, only requests in flight (and the time-zone read) past it: {left} left"
    );
    assert_eq!(h.sim.hubspot.stats().rate_limited(), 0, "no 429, daily or other");
    let runs = job.store.list_runs(1).expect("history");
    let first = &runs[0];
    assert_eq!(first.status, RunStatus::Failed, "in the history like other failures");
    assert_eq!(first.message.as_deref(), Some(err.message.as_str()), "with the message");
    let written = first.counts.written;
    assert!(written > 0 && written < want.len() as u64, "stopped part way: {written}");
    // Midnight in the account's time zone: the allowance is back.
    h.sim.hubspot.set_daily_used(0);
    let r = push(&job, push_request(false, false), &cfg).await.expect("the next push");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "{:?}", r.summary);
    assert_eq!(
        written + r.summary.counts.written,
        want.len() as u64,
        "the next push wrote the rest, and nobody twice"
    );
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_below_the_daily_reserve_stops_before_its_first_request_and_resumes_after_reset() {
    let h = small_daily_allowance(200).await;
    let cfg = test_engine(SCALE);
    let job = h.push_job(true, &cfg).await;
    let r = push(&job, push_request(false, false), &cfg).await.expect("setup push");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "setup: {:?}", r.summary);
    let pcfg = test_pull_config(SCALE);
    let _ = pull_job(&h, &job, &pcfg, PullSettings::default()).await; // creates the counter
    simulate_workflow(&h, &job.mapping);
    let purpose_prop = job
        .mapping
        .entries
        .iter()
        .find(|e| matches!(e.item, DidomiItem::Purpose { .. }))
        .expect("a purpose is mapped")
        .property
        .clone();
    let contacts = h.both_sides(3).await;
    for (id, _) in &contacts {
        let now = h.sim.hubspot.contact(*id).unwrap().properties.get(&purpose_prop).cloned();
        let flipped = if now.as_deref() == Some("true") { "false" } else { "true" };
        h.sim.hubspot.set_property_value_as_user(*id, &purpose_prop, flipped).expect("edit");
    }
    use_daily_until(&h, 1_000); // at the reserve: calls before the pull take it below
    let pull = pull_job(&h, &job, &pcfg, PullSettings::default()).await; // reads a property
    let left = job.hubspot.rate_limits().and_then(|s| s.daily_remaining).expect("daily pair");
    assert_eq!(left, 999, "one call below the reserve");
    let events = h.sim.didomi.events_received();
    let used = h.sim.hubspot.daily_used();
    let err = run_pull(pull, false, &pcfg).await.expect_err("the pull stops");
    eprintln!("daily stop (pull): {}", err.message);
    assert_eq!(err.code, ErrorCode::HubSpotDailyLimit, "{err:?}");
    assert!(err.message.contains("the next pull picks up the rest"), "{}", err.message);
    // Checked again by the time-zone read (the answer was from before the run): 998 left.
    assert!(err.message.contains("998 of 20,000 calls are left today"), "{}", err.message);
    assert_eq!(h.sim.hubspot.daily_used(), used + 1, "only the time-zone read was sent");
    assert_eq!(h.sim.didomi.events_received(), events, "nothing written");
    let last = &job.store.list_runs(1).expect("history")[0];
    assert_eq!(
        (last.direction, last.status),
        (SyncDirection::Pull, RunStatus::Failed),
        "a failed pull in the history"
    );
    // Midnight: the last answer the client saw still says 998, the pull checks again.
    h.sim.hubspot.set_daily_used(0);
    let r = run_pull(pull_job(&h, &job, &pcfg, PullSettings::default()).await, false, &pcfg)
        .await
        .expect("the next pull");
    assert_eq!(r.run.summary.status, RunStatus::Succeeded, "{:?}", r.run.summary);
    assert_eq!(r.run.summary.counts.written, 3, "the three changed contacts pulled");
}
