//! Auto-sync through the facade against the simulator: the interval is checked and saved in
//! the settings, one auto run pushes (and pulls when the bidirectional flow is on) into the
//! same History as runs started by hand, a second run with nothing changed writes nothing,
//! and a run that cannot start is reported as skipped with what to do. (The scheduler's timing
//! is unit-tested with tokio's paused clock in `dhs_core::run::auto`.)

use std::sync::{Arc, Mutex};

use dhs_core::run::auto::{AutoSyncOutcome, AutoSyncStatus};
use dhs_core::run::{RunStatus, SyncDirection};
use dhs_core::ErrorCode;
use dhs_tests::{simulate_workflow, start_connected, test_engine};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interval_is_checked_saved_and_announced() {
    let h = start_connected(20, 100.0).await;
    let seen: Arc<Mutex<Vec<AutoSyncStatus>>> = Arc::default();
    let s = seen.clone();
    h.core.runs().auto_sync_listen(move |st| s.lock().unwrap().push(st));
    assert_eq!(seen.lock().unwrap()[0].interval_minutes, None, "off by default, told at once");

    let e = h.core.runs().auto_sync_set(Some(4)).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "under 5 minutes refused: {e:?}");
    assert!(e.message.contains("at least 5 minutes"), "says the minimum: {}", e.message);
    assert_eq!(h.core.settings().options.auto_sync_minutes, None, "nothing saved");

    let st = h.core.runs().auto_sync_set(Some(15)).expect("15 minutes accepted");
    assert_eq!(st.interval_minutes, Some(15));
    let saved = h.saved.lock().unwrap().clone().expect("settings persisted");
    assert_eq!(saved.options.auto_sync_minutes, Some(15), "the interval is in the saved settings");
    assert_eq!(
        seen.lock().unwrap().last().map(|s| s.interval_minutes),
        Some(Some(15)),
        "the listener heard the change"
    );
    {
        let seen = seen.lock().unwrap();
        assert!(
            seen.windows(2).all(|w| w[1].revision > w[0].revision),
            "every status carries a newer revision than the one before"
        );
    }
    h.core.runs().auto_sync_set(None).expect("off");
    assert_eq!(h.core.settings().options.auto_sync_minutes, None, "off saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_run_pushes_then_pulls_and_lands_in_history() {
    let h = start_connected(200, 100.0).await;
    let job = h.push_job(true, &test_engine(100.0)).await;
    h.core.configuration().options_set_upsert(true).await.expect("upsert on");
    h.core.configuration().mapping_save(job.mapping.clone()).await.expect("mapping saved");

    // Push only while the bidirectional flow is off.
    let writes = h.sim.hubspot.stats().write_requests;
    let run = h.core.runs().auto_sync_once(CancellationToken::new()).await;
    assert_eq!(run.outcome, AutoSyncOutcome::Succeeded, "{run:?}");
    assert_eq!(run.run_ids.len(), 1, "one push: {run:?}");
    assert!(h.sim.hubspot.stats().write_requests > writes, "HubSpot was written");
    let history = h.core.runs().history_list(10).await.expect("history");
    assert_eq!(history[0].id, run.run_ids[0], "the auto run is in History");
    assert_eq!(history[0].direction, SyncDirection::Push);
    assert!(history[0].auto, "History marks it as an auto run");
    assert!(history[0].counts.written > 0, "it wrote contacts: {:?}", history[0].counts);
    assert_eq!(
        h.core.runs().auto_sync_status().last.as_ref(),
        Some(&run),
        "kept as the last auto run"
    );
    assert!(!h.core.runs().auto_sync_status().running, "not running any more");

    // Bidirectional on: push then pull; nothing changed, so nothing is written either way.
    let portal = h.core.settings().hubspot.portal_id.expect("portal id");
    h.core
        .configuration()
        .options_enable_bidirectional(portal.to_string())
        .await
        .expect("bidirectional on");
    simulate_workflow(&h, &job.mapping);
    let writes = h.sim.hubspot.stats().write_requests;
    let events = h.sim.didomi.events_received();
    let run = h.core.runs().auto_sync_once(CancellationToken::new()).await;
    assert_eq!(run.outcome, AutoSyncOutcome::Succeeded, "{run:?}");
    assert_eq!(run.run_ids.len(), 2, "a push and a pull: {run:?}");
    let history = h.core.runs().history_list(10).await.expect("history");
    let directions: Vec<_> = history[..2].iter().map(|r| r.direction).collect();
    assert_eq!(directions, [SyncDirection::Pull, SyncDirection::Push], "newest first");
    assert!(history[..2].iter().all(|r| r.status == RunStatus::Succeeded && r.auto));
    // A run started by hand is not marked.
    let manual = h
        .core
        .runs()
        .push_run(dhs_tests::push_request(false, false), |_| {}, CancellationToken::new())
        .await
        .expect("manual push");
    let listed = h.core.runs().history_list(1).await.expect("history");
    assert_eq!((listed[0].id, listed[0].auto), (manual.summary.id, false), "manual run unmarked");
    assert_eq!(h.sim.hubspot.stats().write_requests, writes, "no HubSpot write");
    assert_eq!(h.sim.didomi.events_received(), events, "no Didomi event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_cannot_start_is_skipped_with_what_to_do() {
    let h = start_connected(20, 100.0).await;
    let run = h.core.runs().auto_sync_once(CancellationToken::new()).await;
    assert_eq!(run.outcome, AutoSyncOutcome::Skipped, "nothing mapped: {run:?}");
    assert!(run.message.contains("Mapping screen"), "says what to do: {}", run.message);
    assert!(run.run_ids.is_empty());
    assert!(h.core.runs().history_list(10).await.expect("history").is_empty(), "no run recorded");

    h.core.connections().didomi_disconnect().await.expect("disconnect");
    let run = h.core.runs().auto_sync_once(CancellationToken::new()).await;
    assert_eq!(run.outcome, AutoSyncOutcome::Skipped, "Didomi disconnected: {run:?}");
    assert!(run.message.to_lowercase().contains("didomi"), "names Didomi: {}", run.message);
}
