//! The push engine under the simulator's fault injection: 429 storms, 5xx, dropped connections,
//! malformed JSON, latency, Didomi errors, a token expiring mid-run, 207 partial failures (an
//! INVALID_OPTION value) and a batch rejected whole. Every record ends written or reported,
//! none lost, none duplicated (checked on the simulator's final state).

use std::collections::BTreeMap;
use std::time::Duration;

use dhs_core::hubspot::models::{PropertyCreate, PropertyOption};
use dhs_core::mapping::{DidomiItem, MappingEntry, ValueEncoding};
use dhs_core::push::EngineConfig;
use dhs_core::run::{RecordStatus, RunStatus};
use dhs_simulator::faults::{Api, FaultConfig, FaultRule};
use dhs_tests::{push, push_request, start_connected, test_engine};

use crate::sync_push::{assert_hubspot_holds, expected};

const BATCH: &str = "/crm/objects/2026-03/contacts/batch";

fn faults(rules: Vec<FaultRule>) -> FaultConfig {
    FaultConfig { seed: 7, rules }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_waited_out_and_never_a_record_failure() {
    let h = start_connected(400, 100.0).await;
    let cfg = test_engine(100.0);
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    h.sim.faults.set(faults(vec![FaultRule {
        path_prefix: Some(BATCH.into()),
        burst_429: 25,
        ..Default::default()
    }]));
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    assert_eq!(h.sim.faults.counters().rate_limited, 25, "the storm happened");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "429s are waited out: {:?}", r.summary);
    assert_eq!(r.summary.counts.failed, 0, "a 429 is never a record failure");
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_drops_and_malformed_answers_are_retried_without_duplicates() {
    let h = start_connected(600, 100.0).await;
    let cfg = EngineConfig { max_attempts: 12, ..test_engine(100.0) };
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    let initial = h.sim.hubspot.contact_count();
    let missing = want.keys().filter(|e| h.sim.hubspot.contact_by_email(e).is_none()).count();
    h.sim.faults.set(faults(vec![FaultRule {
        path_prefix: Some(BATCH.into()),
        share_5xx: 0.25,
        share_drop: 0.1,
        share_malformed: 0.1,
        ..Default::default()
    }]));
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    let c = h.sim.faults.counters();
    assert!(c.server_errors > 0 && c.dropped > 0 && c.malformed > 0, "faults happened: {c:?}");
    h.sim.faults.clear();
    let failures = job.store.records(r.summary.id, true, 10_000, 0).expect("records");
    let failed: std::collections::HashSet<&str> =
        failures.iter().map(|f| f.email.as_str()).collect();
    assert_eq!(failed.len() as u64, r.summary.counts.failed, "every failure is reported once");
    for (email, values) in &want {
        if failed.contains(email.as_str()) {
            continue;
        }
        let contact = h.sim.hubspot.contact_by_email(email).expect("written contact exists");
        for (p, v) in values {
            assert_eq!(contact.properties.get(p), Some(v), "{email}: {p}");
        }
    }
    assert_eq!(
        r.summary.counts.written + r.summary.counts.failed,
        want.len() as u64,
        "every record written or reported"
    );
    // A malformed answer to an applied upsert is retried: the retry updates, never duplicates.
    let created_now = h.sim.hubspot.contact_count() - initial;
    assert!(
        created_now <= missing,
        "no duplicate contact: {created_now} created for {missing} missing"
    );
    let r2 = push(&job, push_request(false, false), &cfg).await.expect("next run");
    assert_eq!(r2.summary.counts.failed, 0, "the failed records are written by the next run");
    assert_eq!(
        h.sim.hubspot.contact_count() - initial,
        missing,
        "exactly one contact per missing email"
    );
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone holds the values");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_and_didomi_errors_slow_the_push_but_lose_nothing() {
    let h = start_connected(300, 100.0).await;
    let cfg = EngineConfig { max_attempts: 10, ..test_engine(100.0) };
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    h.sim.faults.set(faults(vec![
        FaultRule {
            api: Some(Api::Didomi),
            path_prefix: Some("/v1/consents/users".into()),
            share_5xx: 0.3,
            share_drop: 0.1,
            share_malformed: 0.1,
            ..Default::default()
        },
        FaultRule { api: Some(Api::HubSpot), latency_ms: 10, jitter_ms: 20, ..Default::default() },
    ]));
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    let c = h.sim.faults.counters();
    assert!(c.delayed > 0 && c.server_errors > 0, "faults happened: {c:?}");
    h.sim.faults.clear();
    assert_eq!(r.summary.status, RunStatus::Succeeded, "{:?}", r.summary);
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_option_fails_only_its_records_which_are_retried_first_next_time() {
    let h = start_connected(400, 100.0).await;
    let cfg = test_engine(100.0);
    let mut job = h.push_job(true, &cfg).await;
    // email_frequency (single choice) written as ids into a select whose options lack one value.
    let cfg_pmp = h.sim.didomi.pmp_config();
    let (pi, pref) = cfg_pmp
        .tree
        .iter()
        .enumerate()
        .find_map(|(i, prefs)| {
            prefs.iter().find(|(id, _)| id.starts_with("email_frequency")).map(|(id, _)| (i, *id))
        })
        .expect("email_frequency sits under a purpose");
    let purpose = cfg_pmp.purposes[pi].id;
    let values: Vec<&str> = cfg_pmp
        .preferences
        .iter()
        .find(|p| p.id == pref)
        .unwrap()
        .values
        .iter()
        .map(|v| v.id)
        .collect();
    let missing_value = *values.last().unwrap();
    let option =
        |v: &str| PropertyOption { label: v.into(), value: v.into(), ..Default::default() };
    let hubspot = h.core.connections().hubspot().await.unwrap();
    hubspot
        .create_contact_property(&PropertyCreate {
            name: "freq_select".into(),
            label: "Frequency".into(),
            type_: "enumeration".into(),
            field_type: "select".into(),
            group_name: "didomi".into(),
            options: values[..values.len() - 1].iter().map(|v| option(v)).collect(),
            ..Default::default()
        })
        .await
        .expect("select property");
    job.mapping.entries.push(MappingEntry {
        item: DidomiItem::Preference { purpose_id: purpose.into(), preference_id: pref.into() },
        property: "freq_select".into(),
        encoding: ValueEncoding::Ids,
    });
    let want = expected(&h, &job).await;
    let bad: Vec<&String> = want
        .iter()
        .filter(|(_, v)| v.get("freq_select").map(String::as_str) == Some(missing_value))
        .map(|(e, _)| e)
        .collect();
    assert!(!bad.is_empty(), "some people chose the value HubSpot does not offer");
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    assert_eq!(r.summary.status, RunStatus::Partial, "partial: {:?}", r.summary);
    assert_eq!(r.summary.counts.failed, bad.len() as u64, "exactly the bad records failed");
    assert_eq!(
        r.summary.counts.written,
        (want.len() - bad.len()) as u64,
        "the others were written"
    );
    let failures = job.store.records(r.summary.id, true, 1000, 0).expect("records");
    assert!(
        failures.iter().all(|f| f.status == RecordStatus::Failed
            && f.category.as_deref() == Some("VALIDATION_ERROR")
            && f.message.contains(missing_value)),
        "each failure carries HubSpot's category and message: {:?}",
        failures.first()
    );
    let csv = h.data_dir().join("records.csv");
    let rows =
        h.core.runs().history_records_csv(r.summary.id, csv.clone()).await.expect("csv export");
    let c = &r.summary.counts;
    assert_eq!(
        rows,
        c.failed + c.skipped + c.invalid + c.duplicates,
        "one CSV row per record not written: {c:?}"
    );
    let text = std::fs::read_to_string(&csv).expect("csv written");
    assert!(
        text.starts_with("email,outcome,action,hubspot_error,message,correlation_id"),
        "header"
    );
    let failed_rows = text.lines().filter(|l| l.split(',').nth(1) == Some("failed")).count();
    assert_eq!(failed_rows, bad.len(), "each failure is a row with the outcome failed");
    assert!(text.contains(bad[0].as_str()), "rows name the emails");
    // The admin adds the option in HubSpot; the next push retries the failed records first.
    let token = h.sim.info.hubspot_private_app_token.clone();
    let all: Vec<_> = values.iter().map(|v| serde_json::json!({"label": v, "value": v})).collect();
    let resp = reqwest::Client::new()
        .patch(format!("{}/crm/properties/2026-03/contacts/freq_select", h.sim.info.hubspot))
        .bearer_auth(token)
        .json(&serde_json::json!({"options": all}))
        .send()
        .await
        .expect("patch property");
    assert!(resp.status().is_success(), "option added: {}", resp.status());
    assert_eq!(
        job.store.failed_ouids(1000).expect("failed").len(),
        bad.len(),
        "failed ones are known"
    );
    let before = h.sim.hubspot.stats().write_requests;
    let r2 = push(&job, push_request(false, false), &cfg).await.expect("retry run");
    assert_eq!(
        (r2.summary.counts.written, r2.summary.counts.failed),
        (bad.len() as u64, 0),
        "retried and written"
    );
    assert_eq!(
        h.sim.hubspot.stats().write_requests - before,
        bad.len().div_ceil(100) as u64,
        "in as few batches as possible"
    );
    assert!(job.store.failed_ouids(1000).expect("failed").is_empty(), "no failure left");
    let mut fixed = BTreeMap::new();
    for e in &bad {
        fixed.insert((*e).clone(), want[*e].clone());
    }
    assert_hubspot_holds(&h, &fixed, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_rejected_whole_is_split_and_every_record_written() {
    let h = start_connected(400, 100.0).await;
    // 150 inputs: HubSpot refuses the whole batch (more than 100); the engine splits it.
    let cfg = EngineConfig { batch_size: 150, ..test_engine(100.0) };
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    assert!(want.len() > 150, "enough people for a rejected batch");
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "{:?}", r.summary);
    assert_eq!(r.summary.counts.written, want.len() as u64, "nothing lost");
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_expiring_mid_run_is_refreshed_and_nothing_fails() {
    // Time scale 600: HubSpot access tokens live 3 s.
    // Installed over OAuth on a port of its own, below Linux's ephemeral range.
    let h = dhs_tests::start_connected_oauth(2000, 600.0, &[21520]).await;
    // One request at a time (not more as the latency is seen), so the run outlives the token.
    let cfg = EngineConfig { concurrency: 1, max_in_flight: 1, ..test_engine(600.0) };
    let job = h.push_job(true, &cfg).await;
    let want = expected(&h, &job).await;
    h.sim.faults.set(faults(vec![FaultRule {
        path_prefix: Some(BATCH.into()),
        latency_ms: 500,
        ..Default::default()
    }]));
    let refreshes = job.hubspot.refresh_stats().refreshes;
    let r = push(&job, push_request(false, false), &cfg).await.expect("push");
    h.sim.faults.clear();
    assert!(
        r.summary.duration_ms.unwrap_or(0) > 3_000,
        "the run outlived one token: {:?}",
        r.summary
    );
    assert!(job.hubspot.refresh_stats().refreshes > refreshes, "the token was refreshed mid-run");
    assert_eq!(
        (r.summary.status, r.summary.counts.failed),
        (RunStatus::Succeeded, 0),
        "{:?}",
        r.summary
    );
    assert_eq!(assert_hubspot_holds(&h, &want, true), want.len(), "everyone written");
    tokio::time::sleep(Duration::from_millis(10)).await;
}
