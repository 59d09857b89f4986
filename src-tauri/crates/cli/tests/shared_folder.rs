//! One data folder used in turn by the window's path (the `Core` facade) and the CLI's direct
//! mode (`--hubspot-base-url` with a private-app token): both build their jobs with the core's
//! job constructors, so they share the state scope (the portal id), the pull's event ids and
//! the settings file. An unchanged re-run on the other path writes nothing and sends nothing;
//! a change is written once, by whichever path runs first.

use std::path::Path;
use std::process::{Command, Stdio};

use dhs_core::settings_file::{self, Part};
use dhs_core::{Mode, RunStatus, SyncDirection, SyncRequest};
use dhs_tests::{simulate_workflow, start_connected, test_engine, Harness};
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_didomi-hubspot-sync");

/// Runs `sync <what>` of the CLI on `h`'s data folder and returns its JSON report.
fn cli(h: &Harness, what: &str) -> serde_json::Value {
    let info = &h.sim.info;
    let out = Command::new(BIN)
        .args(["sync", what, "--hubspot-base-url", &info.hubspot])
        .args(["--didomi-base-url", &info.didomi, "--data-dir"])
        .arg(h.data_dir())
        .env("HUBSPOT_ACCESS_TOKEN", info.hubspot_private_app_token.as_str())
        .env("DIDOMI_API_KEY", &info.didomi_api_key.key)
        .env("DIDOMI_API_SECRET", info.didomi_api_key.secret.as_str())
        .env("DIDOMI_ORGANIZATION_ID", &info.didomi_organization_id)
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "sync {what} succeeds: {stderr}");
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The settings file the window writes, in the core's layout (the CLI reads it).
fn save_app_settings(h: &Harness) {
    let path = settings_file::path(&h.data_dir(), Mode::Live);
    settings_file::write_part(&path, &h.core.settings(), Part::All).expect("settings file");
}

async fn app_push(h: &Harness) -> dhs_core::RunReport {
    let req = SyncRequest { direction: SyncDirection::Push, dry_run: false, full: false };
    let r = h.core.runs().push_run(req, |_| {}, CancellationToken::new()).await.expect("app push");
    assert_eq!(r.summary.status, RunStatus::Succeeded, "{:?}", r.summary);
    r
}

async fn app_pull(h: &Harness) -> dhs_core::pull::PullReport {
    let r =
        h.core.runs().pull_run(false, |_| {}, CancellationToken::new()).await.expect("app pull");
    assert_eq!(r.run.summary.status, RunStatus::Succeeded, "{:?}", r.run.summary);
    r
}

fn writes(h: &Harness) -> u64 {
    h.sim.hubspot.stats().write_requests
}

/// A person flips the first mapped property of contact `id` in HubSpot (the workflow raises
/// "Didomi Changed").
fn edit(h: &Harness, id: u64, property: &str) {
    let now = h.sim.hubspot.contact(id).expect("contact").properties.get(property).cloned();
    let flipped = if now.as_deref() == Some("true") { "false" } else { "true" };
    h.sim.hubspot.set_property_value_as_user(id, property, flipped).expect("edit");
}

fn pull_event_ids(h: &Harness) -> Vec<String> {
    h.sim
        .didomi
        .recent_events()
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .filter(|id| id.starts_with("hs-pull-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_and_cli_take_turns_on_one_data_folder_without_rewriting_or_resending() {
    let h = start_connected(80, 100.0).await;
    let job = h.push_job(true, &test_engine(100.0)).await; // creates the mapped properties
    h.core.configuration().options_set_upsert(true).await.expect("upsert on");
    h.core.configuration().mapping_save(job.mapping.clone()).await.expect("mapping saved");
    let portal = h.sim.hubspot.portal_id();
    h.core
        .configuration()
        .options_enable_bidirectional(portal.to_string())
        .await
        .expect("bidirectional on");
    save_app_settings(&h);

    // Push: the app writes everyone, then the CLI and the app again find nothing to write.
    let first = app_push(&h).await;
    assert!(first.summary.counts.written > 0, "the first push writes: {:?}", first.summary);
    let before = writes(&h);
    let r = cli(&h, "push");
    assert_eq!(r["summary"]["counts"]["written"], 0, "the CLI re-sends nothing: {r}");
    assert_eq!(writes(&h), before, "no HubSpot write from the CLI's unchanged re-run");
    assert_eq!(app_push(&h).await.summary.counts.written, 0, "nor from the app's");
    assert_eq!(writes(&h), before, "no HubSpot write at all");

    // Pull: an edit is sent once, by whichever path runs first, with the same event id shape.
    simulate_workflow(&h, &job.mapping);
    let property = &job.mapping.entries[0].property;
    let contacts = h.both_sides(2).await;
    let events = h.sim.didomi.events_received();
    edit(&h, contacts[0].0, property);
    let r = app_pull(&h).await;
    assert_eq!(r.run.summary.counts.written, 1, "the app sends the edit: {:?}", r.run.summary);
    let r = cli(&h, "pull");
    assert_eq!(r["run"]["summary"]["counts"]["written"], 0, "the CLI does not resend it: {r}");
    assert_eq!(h.sim.didomi.events_received(), events + 1, "one event so far");
    edit(&h, contacts[1].0, property);
    let r = cli(&h, "pull");
    assert_eq!(r["run"]["summary"]["counts"]["written"], 1, "the CLI sends the new edit: {r}");
    assert_eq!(app_pull(&h).await.run.summary.counts.written, 0, "the app does not resend it");
    assert_eq!(h.sim.didomi.events_received(), events + 2, "two events in all");
    let ids = pull_event_ids(&h);
    assert_eq!(ids.len(), 2, "{ids:?}");
    let prefix = format!("hs-pull-{portal}-");
    assert!(ids.iter().all(|id| id.starts_with(&prefix)), "the portal id in both: {ids:?}");

    // The pull's echo (the pushed values are now HubSpot's) is no write for either path.
    let before = writes(&h);
    let r = cli(&h, "push");
    let again = app_push(&h).await;
    let written = r["summary"]["counts"]["written"].as_u64().unwrap_or(u64::MAX)
        + again.summary.counts.written;
    assert_eq!(written, 0, "nothing echoed back: {r} {:?}", again.summary);
    assert_eq!(writes(&h), before, "no HubSpot write after the pulls");
    assert!(Path::new(&h.data_dir()).join("settings.json").exists(), "one settings file");
}
