//! Issue 14 in the window, in Sandbox: a purpose mapped and pushed, a person of the seeded
//! Sandbox inspected (everything matches), the contact edited on the simulator's portal page as a
//! person would, the mismatch seen, "Sync this person now", the match seen again.

use std::time::Duration;

use dhs_e2e::{choose, final_status, pushed_contact_on_both_sides, rows_of_kind, App, Profile};

/// Waits until the result shows `n` mismatches.
async fn wait_mismatches(app: &App, n: u32) {
    app.wait_attr("inspect-result", "data-mismatches", &n.to_string()).await;
}

#[tokio::test]
async fn inspect_a_person_see_a_portal_edit_as_a_mismatch_sync_them_and_see_the_match() {
    let profile = Profile::new();
    let app = App::start("inspect", &profile).await;
    app.connect_both(&profile).await;
    let (hubspot, didomi) = app.simulator_urls().await;

    app.click("nav-mapping").await;
    app.wait_testid("mapping-row").await;
    let booleans = rows_of_kind(&app, "boolean").await;
    let (_, purpose_row) =
        booleans.iter().find(|(i, _)| i.contains("\"purpose\"")).expect("a purpose row");
    choose(&app, purpose_row, "sim_bool_checkbox").await;
    app.click("mapping-save").await;
    for _ in 0..100 {
        if !app.exists("mapping-dirty").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.click("nav-sync").await;
    app.click("sync-push").await;
    assert!(final_status(&app, "sync-status").await.contains("succeeded"), "the push succeeds");

    // A seeded person on both sides whose purpose was pushed.
    let (contact_id, email, was) =
        pushed_contact_on_both_sides(&hubspot, &didomi, "sim_bool_checkbox").await;

    app.click("nav-inspect").await;
    app.wait_testid("screen-inspect").await;
    app.fill("inspect-email", &format!("{}\u{e007}", email.to_uppercase())).await;
    wait_mismatches(&app, 0).await;
    let rows = app.all("inspect-row").await;
    assert_eq!(rows.len(), 1, "one mapped item");
    assert_eq!(
        rows[0].attr("data-match").await.ok().flatten().as_deref(),
        Some("match"),
        "pushed, so it matches"
    );
    app.screenshot("inspect-match").await;

    // The person's contact edited on the simulator's portal page (its form's request).
    let edit = reqwest::Client::new()
        .post(format!("{hubspot}/_sim/hubspot/portal/edit"))
        .form(&[
            ("id", contact_id.as_str()),
            ("property", "sim_bool_checkbox"),
            ("value", if was { "false" } else { "true" }),
        ])
        .send()
        .await
        .expect("portal page edit");
    assert!(edit.status().is_success() || edit.status().is_redirection(), "edit accepted");

    app.fill("inspect-email", &format!("{email}\u{e007}")).await;
    wait_mismatches(&app, 1).await;
    let changes = app.all("inspect-change").await;
    assert!(!changes.is_empty(), "HubSpot history shown");
    assert_eq!(
        changes[0].attr("data-by-app").await.ok().flatten().as_deref(),
        Some("false"),
        "the newest change is the person's, not this app's"
    );
    let text = app.page_text().await;
    assert!(text.contains("A person in HubSpot"), "the change is said to be a person's");
    assert!(text.contains("This app (push run"), "the push's write is marked with its run");
    app.screenshot("inspect-mismatch").await;

    app.click("inspect-sync").await;
    wait_mismatches(&app, 0).await;
    let status = app.wait_text("inspect-sync-status", "the run's status", |t| !t.is_empty()).await;
    assert!(status.to_lowercase().contains("succeeded"), "the run of one succeeded: {status}");
    app.screenshot("inspect-synced").await;

    app.click("nav-history").await;
    app.wait_testid("history-run").await;
    assert!(app.all("history-run").await.len() >= 2, "the run of one is in History");
    app.quit().await;
}
