//! The push engine against the simulator: upsert vs update-only, value semantics end to end,
//! invalid and duplicate emails, incremental and full runs, the no-op re-run, dry run, cancel,
//! resume after a crash, failed records retried first, and the facade's refusals.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use dhs_core::push::values::{compute, normalize_email, Labels, Values};
use dhs_core::push::{EngineConfig, PushJob};
use dhs_core::run::RunStatus;
use dhs_core::ErrorCode;
use dhs_tests::{push, push_request, start_connected, test_engine, Harness};

/// What HubSpot must hold after a push: email → values, for the newest user of each valid email.
pub async fn expected(h: &Harness, job: &PushJob) -> BTreeMap<String, Values> {
    let prefs =
        h.core.connections().didomi().await.unwrap().list_preferences().await.expect("preferences");
    let labels = Labels::from_preferences(&prefs, "en");
    let mut newest: HashMap<String, (String, Values)> = HashMap::new();
    for u in h.didomi_users().await {
        let Ok(email) = normalize_email(u.organization_user_id.as_deref()) else { continue };
        let values = compute(&u, &job.mapping, &labels);
        let updated = u.updated_at.clone().unwrap_or_default();
        match newest.get(&email) {
            Some((t, _)) if *t >= updated => {}
            _ => {
                newest.insert(email, (updated, values));
            }
        }
    }
    newest.into_iter().filter(|(_, (_, v))| !v.is_empty()).map(|(e, (_, v))| (e, v)).collect()
}

/// Checks every expected contact holds its values; returns how many contacts were checked.
pub fn assert_hubspot_holds(h: &Harness, want: &BTreeMap<String, Values>, upsert: bool) -> usize {
    let mut checked = 0;
    for (email, values) in want {
        match h.sim.hubspot.contact_by_email(email) {
            Some(c) => {
                for (p, v) in values {
                    assert_eq!(c.properties.get(p), Some(v), "{email}: {p} written");
                }
                checked += 1;
            }
            None => assert!(!upsert, "{email}: upsert mode creates every missing contact"),
        }
    }
    checked
}

fn writes(h: &Harness) -> u64 {
    h.sim.hubspot.stats().write_requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_push_writes_everyone_and_the_rerun_sends_no_write() {
    let h = start_connected(400, 100.0).await;
    let cfg = test_engine(100.0);
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    let before = writes(&h);
    let r = push(&job, push_request(false, false), &cfg).await.expect("push succeeds");
    let c = r.summary.counts;
    assert_eq!(r.summary.status, RunStatus::Succeeded, "status: {:?}", r.summary);
    assert_eq!(c.failed, 0, "nothing failed");
    assert_eq!(c.written, want.len() as u64, "every person with values written once");
    assert!(c.created > 0 && c.updated > 0, "Didomi-only people created, others updated: {c:?}");
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "all contacts hold the values");
    let write_requests = writes(&h) - before;
    assert!(
        write_requests <= c.written.div_ceil(100) + 1,
        "about one write request per 100 contacts: {write_requests} for {}",
        c.written
    );
    let before = writes(&h);
    let r2 = push(&job, push_request(false, false), &cfg).await.expect("re-run succeeds");
    assert_eq!(writes(&h), before, "a re-run with nothing changed sends no HubSpot write");
    assert_eq!(r2.summary.counts.written, 0, "nothing written");
    assert_eq!(
        r2.summary.counts.unchanged,
        r.summary.counts.unchanged + c.written,
        "all unchanged"
    );
    let stats = h.sim.hubspot.stats();
    assert_eq!(stats.rate_limited(), 0, "the pacer never let a 429 happen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_only_skips_people_without_a_contact_and_creates_nothing() {
    let h = start_connected(300, 100.0).await;
    let cfg = test_engine(100.0);
    let job = h.push_job(false, &cfg).await;
    let want = expected(&h, &job).await;
    let contacts = h.sim.hubspot.contact_count();
    let missing = want.keys().filter(|e| h.sim.hubspot.contact_by_email(e).is_none()).count();
    assert!(missing > 0, "the population has Didomi-only people");
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    assert_eq!(h.sim.hubspot.contact_count(), contacts, "no contact created with upsert off");
    assert_eq!(
        r.summary.counts.skipped, missing as u64,
        "each missing contact skipped and counted"
    );
    assert_eq!(r.summary.counts.created, 0, "nothing created");
    assert_eq!(
        assert_hubspot_holds(&h, &want, false),
        want.len() - missing,
        "existing ones updated"
    );
    let store = &job.store;
    let recs = store.records(r.summary.id, false, 10_000, 0).expect("records");
    let skips = recs.iter().filter(|r| r.action == dhs_core::run::RecordAction::Skip).count();
    assert_eq!(skips, missing, "every skip is in the history with its email");
    let before = h.sim.hubspot.stats().requests.values().sum::<u64>();
    let r2 = push(&job, push_request(false, false), &cfg).await.expect("re-run");
    let after = h.sim.hubspot.stats().requests.values().sum::<u64>();
    assert_eq!(after, before, "unchanged skipped people are not looked up again");
    assert_eq!(r2.summary.counts.skipped, missing as u64, "still reported as skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_and_duplicate_emails_are_reported_not_guessed() {
    let h = start_connected(400, 100.0).await;
    let cfg = test_engine(100.0);
    let job = h.push_job(true, &cfg).await;
    let users = h.didomi_users().await;
    let invalid = users
        .iter()
        .filter(|u| normalize_email(u.organization_user_id.as_deref()).is_err())
        .count();
    let mut per_email: HashMap<String, usize> = HashMap::new();
    for u in &users {
        if let Ok(e) = normalize_email(u.organization_user_id.as_deref()) {
            *per_email.entry(e).or_default() += 1;
        }
    }
    let duplicates: usize = per_email.values().map(|n| n - 1).sum();
    assert!(invalid > 0 && duplicates > 0, "the population has both");
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    assert_eq!(r.summary.counts.invalid, invalid as u64, "invalid emails counted");
    assert_eq!(r.summary.counts.duplicates, duplicates as u64, "duplicates counted");
    let recs = job.store.records(r.summary.id, false, 10_000, 0).expect("records");
    let dup = recs
        .iter()
        .find(|r| r.action == dhs_core::run::RecordAction::Duplicate)
        .expect("a duplicate record");
    assert!(dup.message.contains("newer user"), "says which user won: {}", dup.message);
    // Every duplicate names the user that won over it: another user of the same email, with
    // its time of change.
    for d in recs.iter().filter(|r| r.action == dhs_core::run::RecordAction::Duplicate) {
        let email = normalize_email(Some(&d.email)).expect("a duplicate has a valid email");
        let named = users.iter().any(|u| {
            normalize_email(u.organization_user_id.as_deref()).ok().as_deref() == Some(&email)
                && !d.message.contains(&format!("Didomi user {} shares", u.id))
                && d.message.contains(&format!(
                    "the newer user {} (changed {};",
                    u.id,
                    u.updated_at.as_deref().unwrap_or("an unknown time")
                ))
        });
        assert!(named, "the winner of {email} is named: {}", d.message);
    }
    assert!(
        recs.iter()
            .any(|r| r.action == dhs_core::run::RecordAction::Invalid && r.email.contains(" at ")),
        "the invalid organization_user_id is named"
    );
    // The newest user of a duplicated email is the one in HubSpot.
    let want = expected(&h, &job).await;
    assert_hubspot_holds(&h, &want, true);
    let before = writes(&h);
    push(&job, push_request(false, false), &cfg).await.expect("re-run");
    assert_eq!(writes(&h), before, "duplicates do not cause writes on re-runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_writes_only_changed_people_and_full_repairs_hubspot_edits() {
    let h = start_connected(300, 100.0).await;
    let cfg = test_engine(100.0);
    let job = h.push_job(true, &cfg).await;
    push(&job, push_request(false, false), &cfg).await.expect("first push");
    let want = expected(&h, &job).await;
    let changed: Vec<&String> = want.keys().take(3).collect();
    let purpose = h.sim.didomi.pmp_config().purposes[0].id.to_owned();
    for email in &changed {
        let u = h.sim.didomi.user_by_organization_user_id(email).expect("user");
        let current = u.consents.purposes.iter().find(|p| p.id == purpose).and_then(|p| p.enabled);
        let change = serde_json::from_value(
            serde_json::json!({"id": purpose, "enabled": current != Some(true)}),
        )
        .unwrap();
        h.sim
            .didomi
            .set_consent_as_user(u.organization_user_id.as_deref().unwrap(), change)
            .expect("change");
    }
    let before = writes(&h);
    let r = push(&job, push_request(false, false), &cfg).await.expect("incremental");
    assert_eq!(r.summary.counts.written, 3, "only the 3 changed people written");
    assert_eq!(writes(&h) - before, 1, "in one batch request");
    assert_hubspot_holds(&h, &expected(&h, &job).await, true);
    // Someone edits a contact in HubSpot: incremental does not see it, full reconcile does.
    let (email, values) = want.iter().nth(10).expect("a contact");
    let (prop, _) = values.iter().next().expect("a property");
    let contact = h.sim.hubspot.contact_by_email(email).expect("contact");
    let wrong = if contact.properties.get(prop).map(String::as_str) == Some("true") {
        "false"
    } else {
        "true"
    };
    let wrong = if values[prop] == "true" || values[prop] == "false" { wrong } else { "edited" };
    h.sim.hubspot.set_property_value_as_user(contact.id, prop, wrong).expect("edit");
    let before = writes(&h);
    let r = push(&job, push_request(false, false), &cfg).await.expect("incremental");
    assert_eq!(
        (r.summary.counts.written, writes(&h) - before),
        (0, 0),
        "incremental trusts the state"
    );
    let dry = push(&job, push_request(true, true), &cfg).await.expect("full dry run");
    assert_eq!(writes(&h) - before, 0, "a dry run writes nothing");
    let plan = dry.plan.expect("dry run has a plan");
    assert_eq!((plan.to_update, plan.to_create), (1, 0), "the plan finds the one edited contact");
    let sample = plan.sample_changes.expect("sample changes");
    assert_eq!(&sample.email, email, "sample is the edited contact");
    assert!(
        sample.changes.iter().any(|c| &c.property == prop && c.before.as_deref() == Some(wrong)),
        "before/after shown: {sample:?}"
    );
    let r = push(&job, push_request(false, true), &cfg).await.expect("full");
    assert_eq!(r.summary.counts.written, 1, "full reconcile writes exactly the difference");
    assert_eq!(
        h.sim.hubspot.contact_by_email(email).unwrap().properties.get(prop),
        Some(&values[prop]),
        "repaired"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_plans_without_writing() {
    let h = start_connected(300, 100.0).await;
    let cfg = test_engine(100.0);
    let job = h.push_job(false, &cfg).await;
    let before = writes(&h);
    let r = push(&job, push_request(true, false), &cfg).await.expect("dry run");
    assert_eq!(writes(&h), before, "no write");
    let plan = r.plan.expect("plan");
    assert!(plan.to_update > 0 && plan.skipped_no_contact > 0, "plan counts: {plan:?}");
    assert_eq!(plan.to_create, 0, "nothing to create with upsert off");
    assert!(!plan.samples.update.is_empty() && !plan.samples.skipped.is_empty(), "samples");
    assert!(!plan.samples.invalid.is_empty(), "invalid samples with reasons");
    assert!(plan.sample_changes.is_some(), "changes of a sample contact");
    let real = push(&job, push_request(false, false), &cfg).await.expect("push");
    assert_eq!(real.summary.counts.written, plan.to_update, "the push does what the plan said");
    assert_eq!(real.summary.counts.skipped, plan.skipped_no_contact, "and skips what it said");
}

/// Counts the contacts each write request touched, to prove nothing is written twice.
fn records_written(h: &Harness) -> u64 {
    h.sim.hubspot.stats().records_written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_after_batches_in_flight_and_the_next_run_finishes() {
    let h = start_connected(2000, 1.0).await;
    // Real pace, and batches of 5: about 210 requests, more than one window holds (HubSpot's
    // first answer states its own limit, which the pacer then follows), so the run is still
    // going when it is cancelled however fast this machine writes the first window.
    let cfg = EngineConfig {
        rate_limit: 5,
        rate_window: Duration::from_secs(1),
        batch_size: 5,
        ..test_engine(1.0)
    };
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    let base = records_written(&h);
    let cancel = tokio_util::sync::CancellationToken::new();
    let c2 = cancel.clone();
    let progress = Arc::new(std::sync::Mutex::new(Vec::new()));
    let p2 = progress.clone();
    let r = dhs_core::push::push(
        job.clone(),
        push_request(false, false),
        cfg.clone(),
        Arc::new(move |p: dhs_core::SyncProgress| {
            if p.written >= 200 {
                c2.cancel();
            }
            p2.lock().unwrap().push(p);
        }),
        cancel,
    )
    .await
    .expect("a cancelled run is not an error");
    assert_eq!(r.summary.status, RunStatus::Cancelled, "cancelled");
    let c = r.summary.counts;
    assert!(c.written >= 200 && c.written < want.len() as u64, "stopped part way: {c:?}");
    assert_eq!(records_written(&h) - base, c.written, "what was sent is what was counted");
    {
        let updates = progress.lock().unwrap();
        assert!(updates.len() >= 2, "progress was streamed");
        for w in updates.windows(2) {
            assert!(w[1].written >= w[0].written, "progress only moves forward");
        }
    }
    let r2 = push(&job, push_request(false, false), &test_engine(1.0)).await.expect("next run");
    assert_eq!(r2.summary.status, RunStatus::Succeeded, "finishes");
    assert_eq!(
        c.written + r2.summary.counts.written,
        want.len() as u64,
        "nothing lost, nothing twice"
    );
    assert_eq!(records_written(&h) - base, want.len() as u64, "each contact written exactly once");
    assert_hubspot_holds(&h, &want, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_the_scan_stops_paging_and_writes_nothing() {
    // 30 pages of users. The scan asks for the next page before it sorts the one it has, so a
    // cancel may let one more page be read, never the rest of the listing.
    let h = start_connected(3000, 100.0).await;
    // A progress event for every page, so that the cancel comes mid-scan.
    let cfg = EngineConfig { progress_interval: Duration::ZERO, ..test_engine(100.0) };
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    let base = records_written(&h);
    let cancel = tokio_util::sync::CancellationToken::new();
    let at_cancel = Arc::new(std::sync::Mutex::new(None));
    let (c2, a2, didomi) = (cancel.clone(), at_cancel.clone(), h.sim.didomi.clone());
    let r = dhs_core::push::push(
        job.clone(),
        push_request(false, false),
        cfg.clone(),
        Arc::new(move |p: dhs_core::SyncProgress| {
            if p.phase == "scanning" && p.read >= 500 && !c2.is_cancelled() {
                *a2.lock().unwrap() = Some(didomi.stats().api_requests);
                c2.cancel();
            }
        }),
        cancel,
    )
    .await
    .expect("a cancelled run is not an error");
    assert_eq!(r.summary.status, RunStatus::Cancelled, "cancelled");
    let at_cancel = at_cancel.lock().unwrap().expect("cancelled while scanning");
    let after = h.sim.didomi.stats().api_requests;
    assert!(after <= at_cancel + 1, "at most the page asked for ahead: {at_cancel} then {after}");
    assert_eq!(r.summary.counts.written, 0, "nothing written: {:?}", r.summary.counts);
    assert_eq!(records_written(&h), base, "HubSpot untouched");
    let r2 = push(&job, push_request(false, false), &cfg).await.expect("next run");
    assert_eq!(r2.summary.status, RunStatus::Succeeded, "finishes");
    assert_hubspot_holds(&h, &want, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_reports_progress_at_the_set_pace_and_its_last_count() {
    // 26 pages read in well under the interval: the window is not sent an event per page, and
    // the last event of the scan has every user it read.
    let h = start_connected(3000, 100.0).await;
    let interval = Duration::from_secs(2);
    let cfg = EngineConfig { progress_interval: interval, ..test_engine(100.0) };
    let job = h.push_job(true, &cfg).await;
    let scanning = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = scanning.clone();
    let started = std::time::Instant::now();
    let r = dhs_core::push::push(
        job,
        push_request(false, false),
        cfg,
        Arc::new(move |p: dhs_core::SyncProgress| {
            if p.phase == "scanning" {
                s2.lock().unwrap().push(p.read);
            }
        }),
        tokio_util::sync::CancellationToken::new(),
    )
    .await
    .expect("push");
    let took = started.elapsed();
    assert_eq!(r.summary.status, RunStatus::Succeeded);
    let scanning = scanning.lock().unwrap().clone();
    let most = 2 + (took.as_secs_f64() / interval.as_secs_f64()) as usize;
    assert!(
        !scanning.is_empty() && scanning.len() <= most,
        "{} events for {} users in {took:?}: at most {most}",
        scanning.len(),
        r.summary.counts.read
    );
    let listed = r.summary.counts.read;
    assert!(listed > 2000, "20 pages or more listed: {listed}");
    assert_eq!(scanning.last().copied(), Some(listed), "the last scan event counts every user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_way_is_resumed_without_loss_or_double_writes() {
    let h = start_connected(2000, 100.0).await;
    // 3 requests in flight at most: with Didomi's pages read 8 at once, all 20 batches are
    // ready at once, and 64 in flight would send them all before the kill.
    let cfg = EngineConfig { concurrency: 3, max_in_flight: 3, ..test_engine(100.0) };
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    let base = records_written(&h);
    let w0 = writes(&h);
    // Latency on writes so requests are in flight when the run is killed.
    h.sim.faults.set(dhs_simulator::faults::FaultConfig {
        seed: 1,
        rules: vec![dhs_simulator::faults::FaultRule {
            path_prefix: Some("/crm/objects/2026-03/contacts/batch/upsert".into()),
            latency_ms: 40,
            ..Default::default()
        }],
    });
    let task = tokio::spawn({
        let (job, cfg) = (job.clone(), cfg.clone());
        async move { push(&job, push_request(false, false), &cfg).await }
    });
    while writes(&h) - w0 < 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort(); // the app dies: the run future is dropped with requests in flight
    let _ = task.await;
    tokio::time::sleep(Duration::from_millis(200)).await; // let the server finish what it got
    h.sim.faults.clear();
    let written_before = records_written(&h) - base;
    assert!(written_before > 0 && written_before < want.len() as u64, "killed part way");
    let r = push(&job, push_request(false, false), &cfg).await.expect("resumed run");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "the resumed run succeeds");
    let runs = job.store.list_runs(5).expect("history");
    assert_eq!(runs[1].status, RunStatus::Interrupted, "the killed run is marked interrupted");
    assert_eq!(
        records_written(&h) - base,
        want.len() as u64,
        "each contact written exactly once overall"
    );
    assert_hubspot_holds(&h, &want, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_facade_refuses_to_start_without_connections_or_mapping() {
    let h = start_connected(50, 1.0).await;
    let e = h
        .core
        .runs()
        .push_run(push_request(false, false), |_| {}, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::MappingEmpty, "empty mapping refused: {e:?}");
    assert!(e.message.contains("Mapping screen"), "says what to do: {}", e.message);
    h.core.connections().didomi_disconnect().await.expect("disconnect");
    let e = h
        .core
        .runs()
        .push_run(push_request(false, false), |_| {}, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DidomiNotConnected, "Didomi required: {e:?}");
    h.core.connections().hubspot_disconnect().await.expect("disconnect");
    let e = h
        .core
        .runs()
        .push_run(push_request(false, false), |_| {}, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::HubSpotNotConnected, "HubSpot required: {e:?}");
    assert!(
        h.core.runs().history_list(10).await.expect("history").is_empty(),
        "refused runs leave no history"
    );
}
