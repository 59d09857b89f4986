//! Data folders written by the released version (two databases: `sync.sqlite3` for the push's
//! state and the history, `pull.sqlite3` for the pull's) open with the current code.
//!
//! The fixtures in `tests/fixtures/released-v1/` were made by [`make_released_v1_fixtures`]
//! (an ignored test) with the code of that release: a simulator (seed 42, 60 people), a full
//! push with upsert, a pull that recorded the counters and the watermark, then what a crash and
//! a failure leave: one journal row of a batch whose answer was never recorded, one contact
//! whose last pull failed; and one contact with the values the pull agreed on (its baseline).

use dhs_core::pull::PullSettings;
use dhs_core::sync::RunStatus;
use dhs_tests::{
    pull_job, push, push_request, run_pull, simulate_workflow, start_connected, test_engine,
    test_pull_config,
};

/// People in the simulator the fixtures were made with.
pub const USERS: u64 = 60;

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/released-v1")
}

/// Writes the fixtures with the code of the release (run by hand:
/// `cargo test -p dhs-tests --test integration make_released_v1 -- --ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the fixtures of the released version"]
async fn make_released_v1_fixtures() {
    let h = start_connected(USERS, 100.0).await;
    let (ecfg, cfg) = (test_engine(100.0), test_pull_config(100.0));
    {
        let job = h.push_job(true, &ecfg).await;
        let _ = pull_job(&h, &job, &cfg, PullSettings::default()).await; // creates the counter
        simulate_workflow(&h, &job.mapping);
        let r = push(&job, push_request(false, true), &ecfg).await.expect("push");
        assert_eq!(r.summary.status, RunStatus::Succeeded, "push: {:?}", r.summary);
        assert!(r.summary.counts.written > 20, "the push wrote: {:?}", r.summary.counts);
        let p = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
            .await
            .expect("pull");
        assert_eq!(p.run.summary.status, RunStatus::Succeeded, "pull: {:?}", p.run.summary);
        let both = h.both_sides(3).await;
        // A batch sent, its answer never recorded (the app died): the journal keeps it.
        let (_, pending_email) = &both[0];
        let hash = job.store.states(&[pending_email.as_str()]).expect("states")[pending_email]
            .hash
            .expect("written");
        job.store.set_pending(&[(pending_email.as_str(), hash)]).expect("journal");
        // A contact whose last pull failed (retried first by the next pull).
        let (failed_id, failed_email) = &both[1];
        let state = dhs_core::pull::PullState::open_in(&h.data_dir()).expect("pull state");
        state.record_failed(&[(failed_id.to_string(), failed_email.clone())]).expect("failed");
        // A contact the pull brought in sync keeps the agreed values (its baseline).
        let (synced_id, synced_email) = &both[2];
        let st = &job.store.states(&[synced_email.as_str()]).expect("states")[synced_email];
        let counter = state.contacts(&[&synced_id.to_string()]).expect("contacts")
            [&synced_id.to_string()]
            .counter;
        state
            .record_done(&[(
                synced_id.to_string(),
                synced_email.clone(),
                counter,
                st.written.clone(),
            )])
            .expect("baseline");
        assert!(state.watermark().expect("watermark") > 0, "the pull moved its watermark");
    } // every connection closed: the write-ahead logs are folded into the files
    let out = fixture_dir();
    std::fs::create_dir_all(&out).expect("fixture folder");
    for name in ["sync.sqlite3", "pull.sqlite3"] {
        let from = h.data_dir().join(name);
        assert!(!h.data_dir().join(format!("{name}-wal")).exists(), "{name}: log folded in");
        std::fs::copy(&from, out.join(name)).expect("copy");
    }
}
