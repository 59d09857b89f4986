//! The CLI as a process: `kill -9` at random points of pushes over duplicate emails, then runs to
//! completion; HubSpot must hold exactly the newest user's answers for every email, nothing is
//! written twice, an unchanged re-run writes nothing, no run stays "Running"; and two CLIs on
//! one data folder: the second refuses at once, naming the first.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dhs_core::didomi::consents::ConsentUser;
use dhs_core::didomi::session::Session;
use dhs_core::didomi::DidomiClient;
use dhs_core::hubspot::HubSpotClient;
use dhs_core::mapping::Mapping;
use dhs_core::push::values::{compute, normalize_email, Labels};
use dhs_simulator::didomi::users::PurposeConsent;
use dhs_simulator::faults::{Api, FaultConfig, FaultRule};
use dhs_simulator::{Config, Simulator};

const BIN: &str = env!("CARGO_BIN_EXE_didomi-hubspot-sync");

fn purpose(id: &str, enabled: Option<bool>) -> PurposeConsent {
    PurposeConsent { id: id.into(), enabled, values: BTreeMap::new() }
}

/// A tiny deterministic generator (the test must be reproducible from its seed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 360 people; 40 emails are shared by two users spelled differently and ~150 users apart,
/// the older one first (half of them) or last; the newer one often answers fewer purposes.
fn people(sim: &Simulator, rng: &mut Rng) {
    let ids: Vec<String> =
        sim.didomi.pmp_config().purposes.iter().map(|p| p.id.to_string()).collect();
    let answers = |rng: &mut Rng, k: usize| -> Vec<PurposeConsent> {
        (0..k).map(|i| purpose(&ids[i % ids.len()], Some(rng.below(2) == 0))).collect()
    };
    let mut later = Vec::new();
    for n in 0..360u64 {
        let email = format!("person{n}@example.com");
        let k = 1 + rng.below(3) as usize;
        sim.didomi.console_change(&email, answers(rng, k)).expect("user");
        if n % 9 == 0 {
            later.push(n);
        }
    }
    // The second users: newer than the first ones, at the end of the listing.
    std::thread::sleep(Duration::from_millis(5));
    for n in later {
        let k = rng.below(3) as usize;
        sim.didomi.console_change(&format!("  PERSON{n}@Example.com"), answers(rng, k)).unwrap();
    }
}

struct World {
    sim: Simulator,
    dir: tempfile::TempDir,
    config: PathBuf,
    mapping: Mapping,
    labels: Labels,
}

impl World {
    async fn new(seed: u64) -> Self {
        let sim = dhs_simulator::start(Config { users: 0, time_scale: 100.0, ..Config::default() })
            .await
            .expect("simulator");
        people(&sim, &mut Rng(seed));
        let http = reqwest::Client::new();
        let hubspot = HubSpotClient::with_token(
            http.clone(),
            sim.info.hubspot.parse().unwrap(),
            sim.info.hubspot_private_app_token.as_str().into(),
        );
        let didomi = didomi_client(&sim);
        let tree = didomi.config_tree().await.unwrap().expect("tree");
        let mapping = dhs_core::push::automap::full_mapping(&tree);
        dhs_core::push::automap::ensure_properties(&hubspot, &mapping, "didomi").await.unwrap();
        let labels = Labels::from_preferences(&didomi.list_preferences().await.unwrap(), "en");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mapping.json");
        write_config(&config, &mapping);
        Self { sim, dir, config, mapping, labels }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cli(&self) -> Command {
        let mut c = Command::new(BIN);
        c.args(["sync", "push", "--config"])
            .arg(&self.config)
            .args(["--hubspot-base-url", &self.sim.info.hubspot])
            .args(["--didomi-base-url", &self.sim.info.didomi])
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--upsert")
            .env("HUBSPOT_ACCESS_TOKEN", self.sim.info.hubspot_private_app_token.as_str())
            .env("DIDOMI_API_KEY", &self.sim.info.didomi_api_key.key)
            .env("DIDOMI_API_SECRET", self.sim.info.didomi_api_key.secret.as_str())
            .env("DIDOMI_ORGANIZATION_ID", &self.sim.info.didomi_organization_id)
            .stdin(Stdio::null());
        c
    }

    /// Runs the CLI to its end: exit code and the JSON report.
    fn run(&self) -> (i32, serde_json::Value, String) {
        let out = self.cli().output().expect("CLI runs");
        let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out.status.code().unwrap_or(-1), report, String::from_utf8_lossy(&out.stderr).into())
    }

    fn slow_hubspot(&self, ms: u64) {
        self.sim.faults.set(FaultConfig {
            seed: ms,
            rules: vec![FaultRule {
                api: Some(Api::HubSpot),
                latency_ms: ms,
                ..FaultRule::default()
            }],
        });
    }

    /// HubSpot holds the newest user's answers for every email, mapped property by property.
    fn assert_model(&self) {
        let users: Vec<ConsentUser> = self
            .sim
            .didomi
            .all_users()
            .into_iter()
            .map(|u| serde_json::from_value(serde_json::to_value(u).unwrap()).unwrap())
            .collect();
        let mut newest: HashMap<String, &ConsentUser> = HashMap::new();
        for u in &users {
            let email = normalize_email(u.organization_user_id.as_deref()).expect("valid");
            match newest.get(&email) {
                Some(w)
                    if (w.updated_at.clone(), w.id.clone())
                        >= (u.updated_at.clone(), u.id.clone()) => {}
                _ => {
                    newest.insert(email, u);
                }
            }
        }
        for (email, u) in newest {
            let want = compute(u, &self.mapping, &self.labels);
            let contact = self.sim.hubspot.contact_by_email(&email);
            for e in &self.mapping.entries {
                let have = contact
                    .as_ref()
                    .and_then(|c| c.properties.get(&e.property))
                    .filter(|v| !v.is_empty());
                let expect = want.get(&e.property).filter(|v| !v.is_empty());
                assert_eq!(
                    have, expect,
                    "{email} {}: HubSpot differs from the newest user",
                    e.property
                );
            }
        }
    }

    fn running_runs(&self) -> usize {
        let store = dhs_core::run::Store::open_in(&self.data_dir()).unwrap();
        store
            .list_runs(1000)
            .unwrap()
            .iter()
            .filter(|r| r.status == dhs_core::run::RunStatus::Running)
            .count()
    }
}

fn didomi_client(sim: &Simulator) -> DidomiClient {
    let http = reqwest::Client::new();
    let base: url::Url = sim.info.didomi.parse().unwrap();
    let k = &sim.info.didomi_api_key;
    let session = Session::new(http.clone(), base.clone(), k.key.clone(), k.secret.as_str().into());
    DidomiClient::new(http, base, Arc::new(session), sim.info.didomi_organization_id.clone())
}

fn write_config(path: &Path, mapping: &Mapping) {
    let mappings: Vec<serde_json::Value> = mapping
        .entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "item": e.item,
                "kind": e.item.kind(),
                "property": e.property,
                "encoding": e.encoding,
            })
        })
        .collect();
    let file = serde_json::json!({
        "format": dhs_core::config_file::FORMAT,
        "version": dhs_core::config_file::VERSION,
        "exportedAt": "2026-12-03T00:00:00Z",
        "appVersion": "test",
        "options": {
            "upsert": true,
            "bidirectional": false,
            "propertyGroup": "didomi",
            "batchSize": 25,
            "didomiChangedProperty": "didomi_changed",
        },
        "mappings": mappings,
    });
    std::fs::write(path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
}

fn written(report: &serde_json::Value) -> u64 {
    report["summary"]["counts"]["written"].as_u64().expect("a report with counts")
}

/// `DHS_KILL_ROUNDS` sets how many seeds run (default 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_never_loses_or_flips_a_consent() {
    let rounds: u64 =
        std::env::var("DHS_KILL_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let mut kills = 0;
    for seed in 1..=rounds {
        let w = World::new(0x5EED + seed).await;
        let mut rng = Rng(seed * 7919);
        // Each batch of 25 answers after 150 ms: a push of ~400 people takes about a second.
        w.slow_hubspot(150);
        let ids: Vec<String> =
            w.sim.didomi.pmp_config().purposes.iter().map(|p| p.id.to_string()).collect();
        for round in 0..5u64 {
            let mut child = w.cli().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(20 + rng.below(700)));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
            }
            child.wait().unwrap();
            // Some people change between runs (only those with n % 5 == 1), so every run writes.
            for n in (1..360u64).step_by(5) {
                let v = (n + round + seed) % 2 == 0;
                let _ = w.sim.didomi.console_change(
                    &format!("person{n}@example.com"),
                    vec![purpose(&ids[0], Some(v))],
                );
            }
        }
        w.sim.faults.clear();
        let (code, report, stderr) = w.run();
        assert_eq!(code, 0, "the run after the kills completes: {stderr}");
        assert_eq!(report["summary"]["status"], "Succeeded", "{report}");
        w.assert_model();
        let (code, again, _) = w.run();
        assert_eq!(code, 0);
        assert_eq!(written(&again), 0, "an unchanged re-run writes nothing: {again}");
        assert_eq!(w.running_runs(), 0, "no run stays Running after its process died");
        // Nothing written twice: each contact's mapped properties changed at most once per
        // value change; the people were never changed, so at most once (cleared ones: never).
        for c in (0..360u64).filter(|c| c % 5 != 1) {
            let email = format!("person{c}@example.com");
            let Some(contact) = w.sim.hubspot.contact_by_email(&email) else { continue };
            for e in &w.mapping.entries {
                let h = w.sim.hubspot.history(contact.id, &e.property);
                assert!(h.len() <= 1, "{email} {}: written {} times: {h:?}", e.property, h.len());
            }
        }
    }
    eprintln!("kill test: {rounds} seeds, {kills} kill -9");
    assert!(kills >= rounds, "the CLI was killed mid-run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cli_on_the_same_data_folder_refuses_naming_the_first() {
    let w = World::new(42).await;
    w.slow_hubspot(60);
    let first = w.cli().stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    // Wait for the first run to be in the history.
    let mut started = false;
    for _ in 0..300 {
        if w.data_dir().join("sync.sqlite3").exists() && w.running_runs() == 1 {
            started = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(started, "the first CLI started its run");
    let (code, _, stderr) = w.run();
    assert_ne!(code, 0, "the second run does not start");
    assert!(stderr.contains("Another sync is running"), "{stderr}");
    assert!(stderr.contains(&format!("process {}", first.id())), "names the holder: {stderr}");
    assert!(stderr.contains("command-line tool"), "names the program: {stderr}");
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "the first run was not disturbed");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["status"], "Succeeded", "{report}");
    w.sim.faults.clear();
    w.assert_model();
}
