//! No echo, with the simulated workflow on (it raises "Didomi Changed" for every change of a
//! mapped property, our own API writes included, exactly like a real workflow):
//! - a push followed by a pull writes nothing back to Didomi for the contacts the push wrote;
//! - a pull followed by a push writes nothing back to HubSpot for the contacts the pull wrote;
//! - the pull reads Didomi only for real HubSpot edits: none for the echo of a push, one read
//!   per edited contact (counted at the simulator).

use dhs_core::pull::PullSettings;
use dhs_core::push::values::normalize_email;
use dhs_core::push::{EngineConfig, PushJob};
use dhs_core::run::RunStatus;
use dhs_simulator::faults::{Api, FaultConfig, FaultRule};
use dhs_tests::{
    pull_job, push, push_request, run_pull, simulate_workflow, start_connected, test_engine,
    test_pull_config, Harness,
};

/// The counter property created, the workflow on, then everyone pushed (upsert).
async fn pushed_with_workflow(
    users: u64,
) -> (Harness, PushJob, EngineConfig, dhs_core::pull::PullConfig, dhs_core::run::RunReport) {
    let h = start_connected(users, 100.0).await;
    let ecfg = test_engine(100.0);
    let cfg = test_pull_config(100.0);
    let job = h.push_job(true, &ecfg).await;
    let _ = pull_job(&h, &job, &cfg, PullSettings::default()).await; // creates the counter
    simulate_workflow(&h, &job.mapping);
    let r = push(&job, push_request(false, false), &ecfg).await.expect("push");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "push ok: {:?}", r.summary);
    (h, job, ecfg, cfg, r)
}

/// A person flips the first mapped purpose on up to `n` contacts in HubSpot (each once);
/// returns how many.
async fn flip_purposes(h: &Harness, job: &PushJob, n: u64) -> u64 {
    let purpose_prop = job
        .mapping
        .entries
        .iter()
        .find(|e| matches!(e.item, dhs_core::mapping::DidomiItem::Purpose { .. }))
        .expect("purpose mapped")
        .property
        .clone();
    let mut edited = 0u64;
    let mut seen = std::collections::HashSet::new();
    for u in h.didomi_users().await {
        let Ok(email) = normalize_email(u.organization_user_id.as_deref()) else { continue };
        let Some(c) = h.sim.hubspot.contact_by_email(&email) else { continue };
        if !seen.insert(c.id) {
            continue; // an email shared by several Didomi users: one contact
        }
        let Some(v) = c.properties.get(&purpose_prop) else { continue };
        let flipped = if v == "true" { "false" } else { "true" };
        h.sim.hubspot.set_property_value_as_user(c.id, &purpose_prop, flipped).expect("edit");
        edited += 1;
        if edited == n {
            break;
        }
    }
    edited
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_then_a_pull_writes_nothing_back_to_didomi() {
    let (h, job, _, cfg, r) = pushed_with_workflow(300).await;
    let pushed = r.summary.counts.written;
    assert!(pushed > 50, "the push wrote many contacts: {pushed}");
    let bumped = h.sim.hubspot.workflow().increments;
    assert!(bumped >= pushed, "the workflow fired for our own writes: {bumped} for {pushed}");
    let events = h.sim.didomi.events_received();
    let p = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("pull");
    let c = p.run.summary.counts;
    assert!(c.read >= pushed, "the pull saw every bumped contact: {c:?}");
    assert_eq!(c.written, 0, "nothing written back: {c:?}");
    assert!(p.conflicts.is_empty(), "no conflicts: {:?}", p.conflicts);
    assert_eq!(h.sim.didomi.events_received(), events, "Didomi received no event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_then_a_push_writes_nothing_back_to_hubspot() {
    let (h, job, ecfg, cfg, _) = pushed_with_workflow(300).await;
    // Settle: a pull after the push (writes nothing, records the counters).
    run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("settle");
    // People edit mapped properties in HubSpot: booleans flipped on 20 contacts.
    let edited = flip_purposes(&h, &job, 20).await;
    assert_eq!(edited, 20, "twenty contacts edited");
    let events = h.sim.didomi.events_received();
    let p = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("pull");
    assert!(
        p.run.summary.counts.written >= 19,
        "the edits reached Didomi: {:?}",
        p.run.summary.counts
    );
    assert!(h.sim.didomi.events_received() > events, "events written");
    let writes = h.sim.hubspot.stats().write_requests;
    let bumps = h.sim.hubspot.workflow().increments;
    let r = push(&job, push_request(false, false), &ecfg).await.expect("push after the pull");
    assert_eq!(r.summary.counts.written, 0, "the push writes nothing back: {:?}", r.summary.counts);
    assert_eq!(h.sim.hubspot.stats().write_requests, writes, "no HubSpot write request");
    assert_eq!(h.sim.hubspot.workflow().increments, bumps, "so the workflow did not fire again");
}

/// Counts the Didomi user reads (`GET /v1/consents/users…`) at the simulator from now on: a
/// rule of 1 ms latency on them, whose `delayed` counter is the count.
fn count_didomi_user_reads(h: &dhs_tests::Harness) -> impl Fn() -> u64 + '_ {
    h.sim.faults.set(FaultConfig {
        seed: 0,
        rules: vec![FaultRule {
            api: Some(Api::Didomi),
            path_prefix: Some("/v1/consents/users".into()),
            method: Some("GET".into()),
            latency_ms: 1,
            ..FaultRule::default()
        }],
    });
    let base = h.sim.faults.counters().delayed;
    move || h.sim.faults.counters().delayed - base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_reads_didomi_only_for_real_edits() {
    let (h, job, _, cfg, r) = pushed_with_workflow(3_000).await;
    let pushed = r.summary.counts.written;
    assert!(pushed > 1_000, "the push wrote many contacts: {pushed}");

    // The workflow's echo of our own writes: every contact seen, none read in Didomi.
    let reads = count_didomi_user_reads(&h);
    let events = h.sim.didomi.events_received();
    let p = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("echo pull");
    let c = p.run.summary.counts;
    assert!(c.read >= pushed, "the pull saw every bumped contact: {c:?}");
    assert_eq!((c.written, c.failed), (0, 0), "nothing written back: {c:?}");
    assert_eq!(reads(), 0, "an echo-only pull reads no Didomi user");
    assert_eq!(h.sim.didomi.events_received(), events, "Didomi received no event");

    // 1,000 real edits in HubSpot: a purpose flipped on each.
    let edited = flip_purposes(&h, &job, 1_000).await;
    assert!(edited >= 500, "enough contacts edited: {edited}");
    let reads = count_didomi_user_reads(&h);
    let p = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("pull of the edits");
    let c = p.run.summary.counts;
    assert_eq!(c.read, edited, "each edited contact seen once: {c:?}");
    assert!(c.written >= edited * 9 / 10, "the edits reached Didomi: {c:?}");
    assert_eq!(reads(), edited, "one Didomi read per edited contact, none for the others");
}
