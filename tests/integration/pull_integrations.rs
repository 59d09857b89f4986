//! What the pull asks of Didomi's other integrations, and the pull across a HubSpot OAuth
//! access-token expiry:
//! - with the default settings (forwarding off) every event the pull writes carries
//!   `?$disable_integrations=true` (didomi-api.md §3: a query parameter of
//!   `POST /consents/events`); once the admin turns forwarding on, the pull's events do not;
//! - a pull that outlives the OAuth access token refreshes it (`refresh_token` grant) and still
//!   writes every changed contact exactly once.
//!
//! Both read what the simulated Didomi recorded through its admin route
//! `GET /_sim/didomi/events?organization_user_id=…` and edit contacts as a person would, through
//! `POST /_sim/hubspot/contacts/{id}/edit`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use dhs_core::mapping::{DidomiItem, Mapping};
use dhs_core::pull::PullSettings;
use dhs_core::push::PushJob;
use dhs_core::run::RunStatus;
use dhs_core::settings::HubSpotAuthMode;
use dhs_core::{SyncDirection, SyncRequest};
use dhs_simulator::faults::{FaultConfig, FaultRule};
use dhs_tests::{
    pull_job, push, push_request, run_pull, simulate_workflow, start_connected,
    start_connected_oauth, test_engine, test_pull_config, Harness,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// The mapped HubSpot property of the first mapped purpose, and that purpose's id.
fn purpose_mapping(job: &PushJob) -> (String, String) {
    job.mapping
        .entries
        .iter()
        .find_map(|e| match &e.item {
            DidomiItem::Purpose { purpose_id } => Some((e.property.clone(), purpose_id.clone())),
            _ => None,
        })
        .expect("a purpose is mapped")
}

/// The purpose's `enabled` on the simulated Didomi user.
fn didomi_enabled(h: &Harness, email: &str, purpose: &str) -> Option<bool> {
    let u = h.sim.didomi.user_by_organization_user_id(email).expect("Didomi user");
    u.consents.purposes.iter().find(|p| p.id == purpose).and_then(|p| p.enabled)
}

/// Sets the contact's purpose property to the opposite of Didomi's choice; returns the value.
async fn flip(h: &Harness, id: u64, email: &str, prop: &str, purpose: &str) -> bool {
    let v = !didomi_enabled(h, email, purpose).unwrap_or(false);
    h.edit_in_portal(id, prop, &v.to_string()).await;
    v
}

/// The events the app wrote through the API for `email`, oldest first.
async fn api_events(h: &Harness, email: &str) -> Vec<Value> {
    h.didomi_events(Some(email)).await.into_iter().filter(|r| r["source"] == "api").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_disables_didomi_integrations_unless_forwarding_is_on() {
    let h = start_connected(200, 100.0).await;
    let job = h.push_job(true, &test_engine(100.0)).await; // creates the mapped properties
    let portal = h.sim.hubspot.portal_id();
    h.core
        .configuration()
        .options_enable_bidirectional(portal.to_string())
        .await
        .expect("bidirectional on");
    let (prop, purpose) = purpose_mapping(&job);
    let entry = job.mapping.entries.iter().find(|e| e.property == prop).cloned().unwrap();
    h.core
        .configuration()
        .mapping_save(Mapping { entries: vec![entry] })
        .await
        .expect("mapping saved");
    let req = SyncRequest { direction: SyncDirection::Push, dry_run: false, full: false };
    let pushed = h.core.runs().push_run(req, |_| {}, CancellationToken::new()).await.expect("push");
    assert_eq!(pushed.summary.status, RunStatus::Succeeded, "push ok: {:?}", pushed.summary);
    let base: url::Url = h.sim.info.hubspot.parse().unwrap();
    let w = h.core.runs().workflow_simulate(&base, true).await.expect("workflow emulated");
    assert_eq!(w.trigger_properties, std::slice::from_ref(&prop), "the mapped property triggers");
    assert!(h.didomi_events(None).await.is_empty(), "no event before the first pull");

    let settings = h.core.runs().pull_settings().await.expect("settings");
    assert!(!settings.forward_to_integrations, "forwarding is off by default: {settings:?}");
    let contacts = h.both_sides(2).await;
    let (id0, email0) = &contacts[0];
    let v0 = flip(&h, *id0, email0, &prop, &purpose).await;
    let r = h.core.runs().pull_run(false, |_| {}, CancellationToken::new()).await.expect("pull");
    assert_eq!(r.run.summary.status, RunStatus::Succeeded, "pull ok: {:?}", r.run.summary);
    assert_eq!(r.run.summary.counts.written, 1, "the edit written: {:?}", r.run.summary.counts);
    assert_eq!(didomi_enabled(&h, email0, &purpose), Some(v0), "Didomi holds the edit");
    let all = h.didomi_events(None).await;
    assert_eq!(all.len(), 1, "one event, the pull's: {all:?}");
    let ev = &all[0];
    assert_eq!(
        (ev["source"].as_str(), ev["event"]["user"]["organization_user_id"].as_str()),
        (Some("api"), Some(email0.as_str())),
        "written by the app for the edited contact: {ev}"
    );
    assert_eq!(
        ev["disable_integrations"],
        json!(true),
        "forwarding off: written with ?$disable_integrations=true: {ev}"
    );
    assert_eq!(h.sim.didomi.stats().events_integrations_disabled, 1, "counted by the simulator");

    let saved = h
        .core
        .runs()
        .pull_settings_save(PullSettings { forward_to_integrations: true, ..settings.clone() })
        .await
        .expect("settings saved");
    assert!(saved.forward_to_integrations, "forwarding on");
    let reread = h.core.runs().pull_settings().await.expect("settings");
    assert_eq!(reread, PullSettings { forward_to_integrations: true, ..settings }, "persisted");
    let (id1, email1) = &contacts[1];
    let v1 = flip(&h, *id1, email1, &prop, &purpose).await;
    let r = h.core.runs().pull_run(false, |_| {}, CancellationToken::new()).await.expect("pull");
    assert_eq!(r.run.summary.status, RunStatus::Succeeded, "pull ok: {:?}", r.run.summary);
    assert_eq!(r.run.summary.counts.written, 1, "the edit written: {:?}", r.run.summary.counts);
    assert_eq!(didomi_enabled(&h, email1, &purpose), Some(v1), "Didomi holds the edit");
    let of1 = api_events(&h, email1).await;
    assert_eq!(of1.len(), 1, "one event for the second contact: {of1:?}");
    assert_eq!(
        of1[0]["disable_integrations"],
        json!(false),
        "forwarding on: written without $disable_integrations: {}",
        of1[0]
    );
    assert_eq!(api_events(&h, email0).await.len(), 1, "the first contact was not written again");
    let stats = h.sim.didomi.stats();
    assert_eq!(
        (stats.events_received, stats.events_integrations_disabled),
        (2, 1),
        "two events, only the first kept from the integrations: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_outliving_the_oauth_access_token_refreshes_it_and_writes_each_contact_once() {
    // Time scale 600: the 1800 s access token lives 3 s (Didomi's 1 h token 6 s).
    const SCALE: f64 = 600.0;
    const LIFETIME: Duration = Duration::from_secs(3);
    let h = start_connected_oauth(300, SCALE, &[21510]).await;
    let auth = h.saved.lock().unwrap().clone().expect("settings saved").hubspot.auth_mode;
    assert_eq!(auth, Some(HubSpotAuthMode::OAuth), "HubSpot connected over OAuth");
    let ecfg = test_engine(SCALE);
    let job = h.push_job(true, &ecfg).await;
    let r = push(&job, push_request(false, false), &ecfg).await.expect("setup push");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "setup push ok: {:?}", r.summary);
    let cfg = test_pull_config(SCALE);
    let _ = pull_job(&h, &job, &cfg, PullSettings::default()).await; // creates the counter
    simulate_workflow(&h, &job.mapping);
    let (prop, purpose) = purpose_mapping(&job);
    let contacts = h.both_sides(40).await;
    let mut want = Vec::new();
    for (id, email) in &contacts {
        want.push((email.clone(), flip(&h, *id, email, &prop, &purpose).await));
    }
    // Small search pages, each answered after 400 ms: the walk takes well over one token's life.
    h.sim.faults.set(FaultConfig {
        seed: 3,
        rules: vec![FaultRule {
            path_prefix: Some("/crm/objects/2026-03/contacts/search".into()),
            latency_ms: 400,
            ..FaultRule::default()
        }],
    });
    let cfg = dhs_core::pull::PullConfig { search_limit: 5, ..cfg };
    let before = h.sim.didomi.stats();
    let refreshes = h.refresh_grants();
    let unauthorized = h.sim.hubspot.stats().unauthorized;
    let started = Instant::now();
    let r = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("pull across the expiry");
    let took = started.elapsed();
    h.sim.faults.clear();
    let refreshed = h.refresh_grants() - refreshes;
    eprintln!(
        "pull of {} contacts took {took:?}; refresh_token grants during it: {refreshed}; HubSpot 401s: {}; searches: {}",
        contacts.len(),
        h.sim.hubspot.stats().unauthorized - unauthorized,
        r.searches
    );
    assert!(took > LIFETIME, "the pull outlived one access token: {took:?}");
    assert!(refreshed >= 1, "the access token was refreshed during the pull");
    let c = r.run.summary.counts;
    assert_eq!(r.run.summary.status, RunStatus::Succeeded, "pull ok: {:?}", r.run.summary);
    assert_eq!((c.read, c.written, c.failed), (40, 40, 0), "every changed contact written: {c:?}");
    for (email, v) in &want {
        assert_eq!(didomi_enabled(&h, email, &purpose), Some(*v), "{email} holds HubSpot's value");
        let evs = api_events(&h, email).await;
        assert_eq!(evs.len(), 1, "{email} written exactly once: {evs:?}");
    }
    let after = h.sim.didomi.stats();
    assert_eq!(after.events_received - before.events_received, 40, "40 events accepted");
    assert_eq!(after.events_rejected, before.events_rejected, "no write refused (no 409 replay)");
    let ids: Vec<String> = h
        .didomi_events(None)
        .await
        .iter()
        .map(|r| r["event"]["id"].as_str().expect("event id").to_owned())
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "no event id stored twice: {ids:?}");
    let r2 = run_pull(pull_job(&h, &job, &cfg, PullSettings::default()).await, false, &cfg)
        .await
        .expect("re-pull");
    assert_eq!(r2.run.summary.counts.written, 0, "nothing rose since: nothing written again");
    assert_eq!(h.sim.didomi.stats().events_received, after.events_received, "no new event");
}
