//! Data folders written by the released version (two databases: `sync.sqlite3` for the push's
//! state and the history, `pull.sqlite3` for the pull's) open with the current code, which keeps
//! one database: every row survives, the old pull file is imported once and renamed, and a push
//! and a pull right after write nothing.
//!
//! The fixtures in `tests/fixtures/released-v1/` were made with the code of that release by the
//! ignored test `make_released_v1_fixtures` of this file at commit f067356 (it used the old
//! two-file API, so it left with it): a simulator (seed 42, [`USERS`] people), a full push with
//! upsert, a pull that recorded the counters and the watermark, then what a crash and a failure
//! leave: one journal row of a batch whose answer was never recorded, one contact whose last
//! pull failed; and one contact with the values the pull agreed on (its baseline).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use dhs_core::pull::state::{Handled, IMPORTED_FILE_NAME, LEGACY_FILE_NAME};
use dhs_core::pull::PullSettings;
use dhs_core::push::PushJob;
use dhs_core::run::{RunStatus, Store};
use dhs_tests::{
    pull_job, push, push_request, run_pull, start_connected, test_engine, test_pull_config,
};
use rusqlite::Connection;

/// People in the simulator the fixtures were made with (seed 42, the default).
const USERS: u64 = 60;

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/released-v1")
}

/// Copies the released version's two databases into `dir`. With `scope`, both say they were
/// written for it (the fixtures were made with the test scope `"test"`; the app writes
/// `<HubSpot host>|<portal id>|<organization>`, and the simulator's host changes every run).
fn copy_fixtures(dir: &Path, scope: Option<&str>) {
    std::fs::create_dir_all(dir).expect("folder");
    for name in ["sync.sqlite3", "pull.sqlite3"] {
        std::fs::copy(fixture_dir().join(name), dir.join(name)).expect("copy fixture");
        if let Some(scope) = scope {
            let db = Connection::open(dir.join(name)).expect("open the copy");
            let n = db
                .execute("UPDATE meta SET value = ?1 WHERE key = 'scope'", [scope])
                .expect("scope set");
            assert_eq!(n, 1, "{name} has a scope");
        }
    }
}

/// A row of the released push state (`contact_state`).
struct PushRow {
    hubspot_id: Option<String>,
    hash: Option<i64>,
    outcome: Option<String>,
    /// The values written, as JSON.
    written: Option<String>,
}

/// A row of the released pull state (`contacts`).
#[derive(Debug, PartialEq)]
struct PullRow {
    email: String,
    counter: i64,
    /// The agreed values, as JSON.
    baseline: Option<String>,
    failed: bool,
}

/// The pull rows per HubSpot id.
type OldPull = BTreeMap<String, PullRow>;

/// What the released version's files hold, read with SQL (not with the code under test).
struct Released {
    /// Per email.
    push: BTreeMap<String, PushRow>,
    /// The journal: (email, hash).
    pending: Vec<(String, i64)>,
    /// Runs: (id, direction, status, counts JSON).
    runs: Vec<(i64, String, String, String)>,
    records: usize,
    pull: OldPull,
    watermark: i64,
}

fn released() -> Released {
    let sync = Connection::open(fixture_dir().join("sync.sqlite3")).expect("sync fixture");
    let rows = |c: &Connection, sql: &str| -> Vec<Vec<rusqlite::types::Value>> {
        let mut st = c.prepare(sql).expect("sql");
        let n = st.column_count();
        st.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    use rusqlite::types::Value as V;
    let text = |v: &V| match v {
        V::Text(s) => Some(s.clone()),
        _ => None,
    };
    let int = |v: &V| match v {
        V::Integer(i) => Some(*i),
        _ => None,
    };
    let push = rows(&sync, "SELECT email, hubspot_id, hash, outcome, written FROM contact_state")
        .iter()
        .map(|r| {
            let row = PushRow {
                hubspot_id: text(&r[1]),
                hash: int(&r[2]),
                outcome: text(&r[3]),
                written: text(&r[4]),
            };
            (text(&r[0]).unwrap(), row)
        })
        .collect();
    let pending = rows(&sync, "SELECT email, hash FROM pending ORDER BY seq")
        .iter()
        .map(|r| (text(&r[0]).unwrap(), int(&r[1]).unwrap()))
        .collect();
    let runs = rows(&sync, "SELECT id, direction, status, counts FROM runs ORDER BY id")
        .iter()
        .map(|r| {
            (int(&r[0]).unwrap(), text(&r[1]).unwrap(), text(&r[2]).unwrap(), text(&r[3]).unwrap())
        })
        .collect();
    let records = rows(&sync, "SELECT seq FROM run_records").len();
    let pull_db = Connection::open(fixture_dir().join("pull.sqlite3")).expect("pull fixture");
    let pull = rows(&pull_db, "SELECT hubspot_id, email, counter, baseline, failed FROM contacts")
        .iter()
        .map(|r| {
            let row = PullRow {
                email: text(&r[1]).unwrap(),
                counter: int(&r[2]).unwrap(),
                baseline: text(&r[3]),
                failed: int(&r[4]) == Some(1),
            };
            (text(&r[0]).unwrap(), row)
        })
        .collect();
    let watermark = text(&rows(&pull_db, "SELECT value FROM meta WHERE key = 'watermark'")[0][0])
        .unwrap()
        .parse()
        .unwrap();
    Released { push, pending, runs, records, pull, watermark }
}

/// The pull state of the one database, as the old rows spell it.
fn pull_rows(store: &Store, ids: &[&str]) -> OldPull {
    store
        .pull()
        .contacts(ids)
        .expect("pull contacts")
        .into_iter()
        .map(|(id, c)| {
            let baseline = c.baseline.map(|b| serde_json::to_string(&b).unwrap());
            (id, PullRow { email: c.email, counter: c.counter, baseline, failed: c.failed })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_data_folder_keeps_every_row_and_a_rerun_writes_nothing() {
    let old = released();
    assert!(old.push.len() > 20 && old.pull.len() > 20, "the fixtures hold people");
    let h = start_connected(USERS, 100.0).await;
    let scope = h.job_inputs(Default::default(), true, "en").await.scope();
    copy_fixtures(&h.data_dir(), Some(&scope));
    let (ecfg, cfg) = (test_engine(100.0), test_pull_config(100.0));
    let job = h.push_job(true, &ecfg).await; // opens the folder: the import
    assert!(!h.data_dir().join(LEGACY_FILE_NAME).exists(), "the old pull file is gone");
    assert!(h.data_dir().join(IMPORTED_FILE_NAME).exists(), "renamed, not deleted");

    // Every row survives.
    let emails: Vec<&str> = old.push.keys().map(String::as_str).collect();
    let states = job.store.states(&emails).expect("states");
    for (email, row) in &old.push {
        let st = &states[email];
        assert_eq!((&st.hubspot_id, st.hash), (&row.hubspot_id, row.hash), "{email}: id, hash");
        let outcome = st.outcome.map(|o| format!("{o:?}").to_lowercase());
        assert_eq!(outcome, row.outcome, "{email}: outcome");
        let now = st.written.as_ref().map(|w| serde_json::to_string(w).unwrap());
        assert_eq!(now, row.written, "{email}: the values written");
    }
    let runs = job.store.list_runs(10).expect("runs");
    let runs: Vec<_> = runs
        .iter()
        .rev()
        .map(|r| {
            let counts = serde_json::to_string(&r.counts).unwrap();
            (r.id, r.direction.as_str().to_owned(), r.status.as_str().to_owned(), counts)
        })
        .collect();
    assert_eq!(runs, old.runs, "the history");
    let records: usize =
        runs.iter().map(|r| job.store.records(r.0, false, 100, 0).unwrap().len()).sum();
    assert_eq!(records, old.records, "the runs' records");
    let ids: Vec<&str> = old.pull.keys().map(String::as_str).collect();
    assert_eq!(pull_rows(&job.store, &ids), old.pull, "the pull's per-contact state");
    assert_eq!(job.store.pull().watermark().unwrap(), old.watermark, "the pull's cursor");
    let (journal_email, journal_hash) = &old.pending[0];

    // HubSpot as the release's run left it: everyone written (from a scratch folder).
    let scratch = tempfile::tempdir().expect("scratch");
    let sync_all = PushJob {
        store: Arc::new(Store::open_in(scratch.path()).expect("scratch store")),
        ..job.clone()
    };
    push(&sync_all, push_request(false, true), &ecfg).await.expect("scratch push");

    // A push and a pull on the upgraded folder write nothing.
    let writes = h.sim.hubspot.stats().write_requests;
    let r = push(&job, push_request(false, false), &ecfg).await.expect("push");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "push: {:?}", r.summary);
    assert_eq!(r.summary.counts.written, 0, "nothing re-sent: {:?}", r.summary.counts);
    assert_eq!(h.sim.hubspot.stats().write_requests, writes, "no HubSpot write request");
    let st = &job.store.states(&[journal_email.as_str()]).unwrap()[journal_email];
    assert_eq!((st.pending_hash, st.hash), (None, Some(*journal_hash)), "the journal row verified");
    let events = h.sim.didomi.events_received();
    let p = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("pull");
    assert_eq!(p.run.summary.status, RunStatus::Succeeded, "pull: {:?}", p.run.summary);
    assert_eq!((p.run.summary.counts.written, p.run.summary.counts.failed), (0, 0), "pull");
    assert_eq!(h.sim.didomi.events_received(), events, "Didomi received no event");
    assert!(
        job.store.pull().failed_emails(10).unwrap().is_empty(),
        "the contact whose pull failed was read again first"
    );
    assert!(job.store.pull().watermark().unwrap() >= old.watermark, "the cursor never moves back");
}

/// The app and the CLI opening an old folder at the same moment: one imports (under the opening
/// lock), the others find it done; and a `pull.sqlite3` put back later (the released version
/// run again) is never imported over newer state.
#[test]
fn an_old_folder_opened_by_several_processes_at_once_is_imported_once() {
    let old = released();
    let ids: Vec<&str> = old.pull.keys().map(String::as_str).collect();
    for _ in 0..10 {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_fixtures(dir.path(), None);
        let barrier = Arc::new(std::sync::Barrier::new(6));
        let opens: Vec<_> = (0..6)
            .map(|_| {
                let (dir, barrier) = (dir.path().to_path_buf(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open_in(&dir).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for o in opens {
            o.join().expect("thread").expect("every open succeeds");
        }
        assert!(!dir.path().join(LEGACY_FILE_NAME).exists(), "renamed");
        let store = Store::open_in(dir.path()).expect("opens");
        assert_eq!(pull_rows(&store, &ids), old.pull, "imported as it was");
        assert_eq!(store.pull().watermark().unwrap(), old.watermark, "with its cursor");

        // Newer state, then the old file comes back.
        let (id, row) = old.pull.iter().next().expect("a contact");
        let counter = row.counter;
        store
            .pull()
            .record_done(&[Handled::keeping_baseline(id, &row.email, counter + 5)])
            .unwrap();
        store.pull().advance_watermark(old.watermark + 1_000).unwrap();
        drop(store);
        std::fs::copy(fixture_dir().join("pull.sqlite3"), dir.path().join(LEGACY_FILE_NAME))
            .expect("put back");
        let store = Store::open_in(dir.path()).expect("reopens");
        assert_eq!(
            store.pull().contacts(&[id]).unwrap()[id].counter,
            counter + 5,
            "not re-imported"
        );
        assert_eq!(store.pull().watermark().unwrap(), old.watermark + 1_000, "cursor kept");
        assert!(!dir.path().join(LEGACY_FILE_NAME).exists(), "moved aside again");
    }
}
