//! The contact inspector against the simulator: found on both sides, only in Didomi, only in
//! HubSpot, unknown, duplicates, a contact changed in HubSpot by a person, the request budget
//! (counted at the simulator), and the run of one: push and pull of one contact alone.

use std::sync::Arc;

use dhs_core::inspect::{inspect, Inspection, Lookup, RowMatch};
use dhs_core::pull::PullSettings;
use dhs_core::push::PushJob;
use dhs_core::run::{RunStatus, SyncDirection};
use dhs_simulator::people::{people, Presence};
use dhs_tests::{push, push_request, start_connected, test_engine, Harness};
use tokio_util::sync::CancellationToken;

const USERS: u64 = 300;

/// A lookup with the push job's clients, state and mapping (no cached schemas, as the CLI).
fn lookup(job: &PushJob) -> Lookup<'_> {
    Lookup {
        hubspot: &job.hubspot,
        didomi: &job.didomi,
        store: &job.store,
        mapping: &job.mapping,
        schemas: None,
    }
}

async fn look(h: &Harness, job: &PushJob, email: &str) -> Inspection {
    let _ = h;
    inspect(lookup(job), email).await.expect("lookup succeeds")
}

/// Requests (HubSpot, Didomi) the simulator received.
fn received(h: &Harness) -> (u64, u64) {
    (h.sim.hubspot.stats().requests.values().sum(), h.sim.didomi.stats().api_requests)
}

/// A person on both sides with consents, one Didomi user, the same email on both sides.
fn both_sides_person() -> String {
    people(42, USERS)
        .find(|p| {
            p.presence == Presence::Both
                && p.has_consents
                && p.didomi_email_valid
                && p.didomi_duplicate.is_none()
                && p.hubspot_email == p.didomi_email
        })
        .expect("such a person")
        .didomi_email
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn found_on_both_sides_within_the_request_budget_with_the_app_history_marked() {
    let h = start_connected(USERS, 1.0).await;
    let cfg = test_engine(1.0);
    let job = h.push_job(true, &cfg).await;
    let run = push(&job, push_request(false, false), &cfg).await.expect("push");
    let email = both_sides_person();
    // Typed with capitals and spaces: normalized as the push does.
    let typed = format!("  {}  ", email.to_uppercase());
    let (hs0, dd0) = received(&h);
    let i = look(&h, &job, &typed).await;
    let (hs1, dd1) = received(&h);
    assert!(hs1 - hs0 <= 4, "at most 4 HubSpot requests, the simulator counted {}", hs1 - hs0);
    assert!(dd1 - dd0 <= 3, "at most 3 Didomi requests, the simulator counted {}", dd1 - dd0);
    assert_eq!(
        (i.requests.hubspot as u64, i.requests.didomi as u64),
        (hs1 - hs0, dd1 - dd0),
        "self-reported = counted"
    );
    assert_eq!(i.email, email, "normalized");
    assert!(i.found);
    assert_eq!(i.didomi_users.len(), 1, "{:?}", i.didomi_users);
    assert_eq!(i.winner.as_deref(), Some(i.didomi_users[0].id.as_str()));
    assert!(i.hubspot_contact.is_some(), "contact found");
    assert!(!i.rows.is_empty());
    assert!(
        i.rows.iter().all(|r| matches!(r.matches, RowMatch::Match | RowMatch::NotWritten)),
        "after a push everything matches: {:#?}",
        i.rows
    );
    assert!(i.rows.iter().any(|r| r.matches == RowMatch::Match), "something was written");
    let by_app: Vec<_> = i.hubspot_history.iter().filter(|c| c.by_app).collect();
    assert!(!by_app.is_empty(), "the push's writes are marked: {:#?}", i.hubspot_history);
    assert!(by_app.iter().all(|c| c.run_id == Some(run.summary.id)), "with the push run");
    assert!(i.runs.iter().any(|r| r.id == run.summary.id && r.direction == SyncDirection::Push));
    // The JSON keys the CLI prints.
    let v = serde_json::to_value(&i).expect("json");
    for key in ["email", "didomi_users", "winner", "rows", "hubspot_history", "runs", "requests"] {
        assert!(v.get(key).is_some(), "key {key}");
    }
    for key in ["didomi_item", "expected", "hubspot", "match"] {
        assert!(v["rows"][0].get(key).is_some(), "row key {key}");
    }
    assert!(v["didomi_users"][0].get("updated_at").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_in_didomi_only_in_hubspot_and_unknown() {
    let h = start_connected(USERS, 1.0).await;
    let cfg = test_engine(1.0);
    let job = h.push_job(false, &cfg).await;
    let didomi_only = people(42, USERS)
        .find(|p| p.presence == Presence::DidomiOnly && p.didomi_email_valid && p.has_consents)
        .expect("a Didomi-only person");
    let i = look(&h, &job, &didomi_only.didomi_email).await;
    assert!(i.found && i.winner.is_some() && i.hubspot_contact.is_none(), "{i:#?}");
    assert!(i.rows.iter().all(|r| r.matches == RowMatch::NoContact));
    assert!(i.rows.iter().any(|r| r.expected.is_some()), "what the push would write is shown");
    let hubspot_only = people(42, USERS)
        .find(|p| p.presence == Presence::HubSpotOnly)
        .expect("a HubSpot-only person");
    let i = look(&h, &job, &hubspot_only.hubspot_email).await;
    assert!(i.found && i.didomi_users.is_empty() && i.hubspot_contact.is_some(), "{i:#?}");
    assert!(i.winner.is_none());
    assert!(i.winner_reason.contains("No Didomi user"));
    assert!(i
        .rows
        .iter()
        .all(|r| r.matches == RowMatch::NotWritten && r.didomi == "No Didomi user"));
    let i = look(&h, &job, "nobody-at-all@example.org").await;
    assert!(!i.found && i.didomi_users.is_empty() && i.hubspot_contact.is_none());
    let e = inspect(lookup(&job), "not an email").await.expect_err("refused");
    assert_eq!(e.code, dhs_core::ErrorCode::InvalidInput, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_found_by_the_spellings_the_push_recorded_and_the_winner_is_the_push_s() {
    let h = start_connected(USERS, 1.0).await;
    let cfg = test_engine(1.0);
    let job = h.push_job(true, &cfg).await;
    let p = people(42, USERS).find(|p| p.didomi_duplicate.is_some()).expect("a duplicate");
    push(&job, push_request(false, false), &cfg).await.expect("push");
    let (hs0, dd0) = received(&h);
    let i = look(&h, &job, &p.didomi_email).await;
    let (hs1, dd1) = received(&h);
    assert!(
        hs1 - hs0 <= 4 && dd1 - dd0 <= 3,
        "budget: {} HubSpot, {} Didomi",
        hs1 - hs0,
        dd1 - dd0
    );
    assert_eq!(
        i.didomi_users.len(),
        2,
        "both spellings found: {:#?} (searched {:?})",
        i.didomi_users,
        i.searched
    );
    let winner = i.didomi_users.iter().find(|u| u.wins).expect("a winner");
    let newest = i.didomi_users.iter().max_by_key(|u| u.updated_at.clone()).expect("users");
    assert_eq!(winner.id, newest.id, "the newest wins");
    assert_eq!(i.winner.as_deref(), Some(winner.id.as_str()));
    assert!(i.winner_reason.contains("2 Didomi users share this email"), "{}", i.winner_reason);
    assert!(
        i.runs.iter().any(|r| r.message.contains("Duplicate")),
        "the push's duplicate record is shown: {:#?}",
        i.runs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_by_a_person_shows_as_a_mismatch_and_the_run_of_one_puts_it_back() {
    let h = start_connected(USERS, 1.0).await;
    let cfg = test_engine(1.0);
    let job = h.push_job(true, &cfg).await;
    h.core
        .configuration()
        .mapping_save(job.mapping.clone())
        .await
        .expect("mapping saved in the app");
    push(&job, push_request(false, false), &cfg).await.expect("push");
    let email = both_sides_person();
    let other = people(42, USERS)
        .filter(|p| {
            p.presence == Presence::Both
                && p.has_consents
                && p.didomi_duplicate.is_none()
                && p.didomi_email_valid
                && p.hubspot_email == p.didomi_email
        })
        .nth(1)
        .expect("another person")
        .didomi_email;
    let i = look(&h, &job, &email).await;
    let row = i
        .rows
        .iter()
        .find(|r| r.matches == RowMatch::Match && r.expected.as_deref() != Some(""))
        .expect("a written row")
        .clone();
    let flipped = if row.expected.as_deref() == Some("true") { "false" } else { "true" };
    let value = if matches!(row.item, dhs_core::mapping::DidomiItem::Preference { .. }) {
        "edited by hand"
    } else {
        flipped
    };
    let id = h.sim.hubspot.contact_by_email(&email).expect("contact").id;
    h.edit_in_portal(id, &row.property, value).await;
    let other_id = h.sim.hubspot.contact_by_email(&other).expect("other contact").id;
    h.edit_in_portal(other_id, &row.property, value).await;

    let i = look(&h, &job, &email).await;
    let r = i.rows.iter().find(|r| r.property == row.property).expect("row");
    assert_eq!(r.matches, RowMatch::Mismatch, "{r:#?}");
    assert_eq!(r.hubspot.as_deref(), Some(value));
    let latest = i.hubspot_history.iter().find(|c| c.property == row.property).expect("history");
    assert_eq!(latest.source_type, "CRM_UI", "newest change is the person's: {latest:#?}");
    assert!(!latest.by_app && latest.source.contains("person"), "{latest:#?}");

    // Dry run of one: plans the write, writes nothing.
    let writes = h.sim.hubspot.stats().write_requests;
    let dry = h
        .core
        .runs()
        .inspect_sync(email.clone(), true, |_| {}, CancellationToken::new())
        .await
        .expect("dry run");
    assert_eq!(h.sim.hubspot.stats().write_requests, writes, "a dry run writes nothing");
    assert!(dry.push.summary.dry_run && dry.pull.is_none());
    let plan = dry.push.plan.expect("plan");
    let changes = plan.sample_changes.expect("the person's changes");
    assert_eq!(changes.email, email);
    assert!(changes.changes.iter().any(|c| c.property == row.property), "{changes:#?}");
    assert_eq!(dry.push.summary.counts.read, 1, "a run of one: {:?}", dry.push.summary.counts);

    // The real run of one: this person only, in History.
    let (hs0, dd0) = received(&h);
    let done = h
        .core
        .runs()
        .inspect_sync(email.clone(), false, |_| {}, CancellationToken::new())
        .await
        .expect("sync one");
    let (hs1, dd1) = received(&h);
    assert_eq!(done.push.summary.status, RunStatus::Succeeded, "{:?}", done.push.summary);
    assert_eq!(done.push.summary.counts.read, 1);
    assert_eq!(done.push.summary.counts.written, 1);
    assert!(
        dd1 - dd0 < 20 && hs1 - hs0 < 20,
        "never reads everyone: {} HubSpot, {} Didomi",
        hs1 - hs0,
        dd1 - dd0
    );
    let history = h.core.runs().history_list(5).await.expect("history");
    assert_eq!(history[0].id, done.push.summary.id, "a run in History");
    let i = look(&h, &job, &email).await;
    let r = i.rows.iter().find(|r| r.property == row.property).expect("row");
    assert_eq!(r.matches, RowMatch::Match, "put back: {r:#?}");
    assert!(i.runs.iter().any(|x| x.id == done.push.summary.id), "the run of one is listed");
    let o = h.sim.hubspot.contact_by_email(&other).expect("other");
    assert_eq!(
        o.properties.get(&row.property).map(String::as_str),
        Some(value),
        "the other person was left alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_of_one_carries_only_that_contact_to_didomi() {
    let h = start_connected(USERS, 100.0).await;
    let ecfg = test_engine(100.0);
    let cfg = dhs_tests::test_pull_config(100.0);
    let job = h.push_job(true, &ecfg).await;
    let _ = dhs_tests::pull_job(&h, &job, &cfg, PullSettings::default()).await; // the counter
    dhs_tests::simulate_workflow(&h, &job.mapping);
    push(&job, push_request(false, false), &ecfg).await.expect("push");
    dhs_tests::run_pull(
        dhs_tests::pull_job(&h, &job, &cfg, PullSettings::default()).await,
        false,
        &cfg,
    )
    .await
    .expect("settle");
    let purpose = job
        .mapping
        .entries
        .iter()
        .find(|e| matches!(e.item, dhs_core::mapping::DidomiItem::Purpose { .. }))
        .expect("a purpose mapped")
        .property
        .clone();
    let mut edited: Vec<String> = Vec::new();
    for (id, email) in h.both_sides(40).await {
        let Some(c) = h.sim.hubspot.contact_by_email(&email) else { continue };
        let Some(v) = c.properties.get(&purpose) else { continue };
        let flipped = if v == "true" { "false" } else { "true" };
        h.sim.hubspot.set_property_value_as_user(id, &purpose, flipped).expect("edit");
        edited.push(email);
        if edited.len() == 2 {
            break;
        }
    }
    assert_eq!(edited.len(), 2, "two contacts edited by a person");
    let pj = dhs_tests::pull_job(&h, &job, &cfg, PullSettings::default()).await;
    let events = h.sim.didomi.events_received();
    let r = dhs_core::pull::pull_only(
        pj,
        edited[0].clone(),
        false,
        cfg.clone(),
        Arc::new(|_| {}),
        CancellationToken::new(),
    )
    .await
    .expect("pull of one");
    assert_eq!(r.run.summary.counts.read, 1, "{:?}", r.run.summary.counts);
    assert_eq!(r.run.summary.counts.written, 1, "{:?}", r.run.summary.counts);
    assert_eq!(r.searches, 0, "no search walk");
    assert_eq!(h.sim.didomi.events_received(), events + 1, "one event, for this person only");
    assert!(!h.didomi_events(Some(&edited[0])).await.is_empty(), "an event for this person");
    // The other edit is still waiting for the next pull.
    let rest = dhs_tests::run_pull(
        dhs_tests::pull_job(&h, &job, &cfg, PullSettings::default()).await,
        false,
        &cfg,
    )
    .await
    .expect("pull");
    assert!(rest.run.summary.counts.written >= 1, "the other edit: {:?}", rest.run.summary.counts);
}
