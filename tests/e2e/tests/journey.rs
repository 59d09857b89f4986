//! The admin's journey after connecting, in the real window and in Sandbox: options (issue 4),
//! mapping through the dropdowns, export and import of the configuration, then a dry run and a
//! push with History (issue 5).

use std::time::Duration;

use dhs_e2e::{
    choose, final_status, hubspot_get, offered, pushed_contact_on_both_sides, rows_of_kind, App,
    Profile,
};
use fantoccini::Locator;

/// Waits until the error alert shows `code`.
async fn expect_error(app: &App, code: &str) {
    for _ in 0..200 {
        if app.exists("error").await
            && app.attr("error", "data-code").await.as_deref() == Some(code)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shot = app.screenshot(&format!("failed-expect-{code}")).await;
    panic!("the error alert never showed {code} (screenshot {})", shot.display());
}

#[tokio::test]
async fn options_mapping_export_import_then_push() {
    let profile = Profile::new();
    let app = App::start("journey", &profile).await;
    app.connect_both(&profile).await;
    let (hubspot, _didomi) = app.simulator_urls().await;
    let info: serde_json::Value = reqwest::get(format!("{hubspot}/_sim/hubspot/info"))
        .await
        .expect("simulator info")
        .json()
        .await
        .expect("info JSON");
    let portal_id = info["portalId"].to_string();
    let card = app.text("hubspot-account").await;
    assert!(card.contains(&portal_id), "the card shows portal {portal_id}: {card}");

    // ---- Options: a wrong account id is refused, the right one enables and creates the property.
    app.click("nav-options").await;
    app.wait_testid("screen-options").await;
    app.click("options-bidirectional").await;
    // Submitted with Enter in the field, as a keyboard user would (WebKitWebDriver's synthetic
    // click does not submit a react-aria form).
    app.fill("options-account-id", "999\u{e007}").await;
    expect_error(&app, "BidirectionalAccountMismatch").await;
    let (status, _) = hubspot_get(&hubspot, "/crm/v3/properties/contacts/didomi_changed").await;
    assert_eq!(status, 404, "a refused account id creates nothing");
    app.fill(
        "options-account-id",
        &format!("https://app.hubspot.com/contacts/{portal_id}/objects/0-1\u{e007}"),
    )
    .await;
    let said = app
        .wait_text("options-bidirectional-status", "what was set up", |t| !t.trim().is_empty())
        .await;
    assert!(
        said.to_lowercase().contains("created"),
        "the first enable creates Didomi Changed: {said}"
    );
    let (status, prop) = hubspot_get(&hubspot, "/crm/v3/properties/contacts/didomi_changed").await;
    assert_eq!(status, 200, "Didomi Changed exists in the simulated portal");
    assert_eq!(prop["type"], "number", "Didomi Changed is a number property: {prop}");
    app.click("options-upsert").await;
    app.screenshot("options-set").await;

    // ---- Mapping through the dropdowns.
    app.click("nav-mapping").await;
    app.wait_testid("mapping-row").await;
    app.screenshot("mapping-open").await;
    let booleans = rows_of_kind(&app, "boolean").await;
    let texts = rows_of_kind(&app, "text").await;
    assert!(booleans.len() >= 2 && !texts.is_empty(), "purposes/values and preferences are listed");
    let purpose = booleans.iter().find(|(i, _)| i.contains("\"purpose\"")).expect("a purpose row");
    let value = booleans.iter().find(|(i, _)| i.contains("\"value\"")).expect("a value row");
    let preference = &texts[0];

    let for_purpose = offered(&app, &purpose.1, "sim_").await;
    assert!(
        for_purpose.iter().any(|n| n == "sim_bool_checkbox"),
        "a single checkbox is offered: {for_purpose:?}"
    );
    for never in [
        "sim_text",
        "sim_select",
        "sim_enum_true_only",
        "sim_calculated",
        "sim_hidden",
        "didomi_changed",
    ] {
        assert!(
            !for_purpose.contains(&never.to_string()),
            "{never} must not be offered to a purpose: {for_purpose:?}"
        );
    }
    let for_pref = offered(&app, &preference.1, "sim_").await;
    assert!(
        for_pref.iter().any(|n| n == "sim_textarea"),
        "multi-line text is offered to a preference: {for_pref:?}"
    );
    assert!(
        !for_pref.contains(&"sim_bool_checkbox".to_string()),
        "a checkbox is not offered to a preference"
    );
    app.client.find(Locator::Css("body")).await.expect("body").send_keys("\u{e00c}").await.ok(); // Escape

    choose(&app, &purpose.1, "sim_bool_checkbox").await;
    choose(&app, &preference.1, "sim_textarea").await;
    choose(&app, &value.1, "sim_yes_no_select").await;
    app.wait_testid("mapping-dirty").await;
    app.screenshot("mapping-chosen").await;
    app.click("mapping-save").await;
    for _ in 0..100 {
        if !app.exists("mapping-dirty").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!app.exists("mapping-dirty").await, "saved: no unsaved-changes marker");

    // ---- Export, change, import the export back, see the diff, confirm.
    app.click("config-export").await;
    let export = profile.dialog_dir().join("export.json");
    for _ in 0..100 {
        if export.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = std::fs::read_to_string(&export).expect("the export was written");
    let json: serde_json::Value = serde_json::from_str(&text).expect("the export is JSON");
    let mapped: Vec<&str> = text.matches("\"property\"").collect();
    assert!(mapped.len() >= 3, "three mappings exported: {json}");
    for secret_word in ["secret", "token", "refresh"] {
        assert!(
            !text.to_lowercase().contains(&format!("\"{secret_word}")),
            "no {secret_word} field in the export"
        );
    }
    std::fs::copy(&export, profile.dialog_dir().join("import.json")).expect("stage the import");

    let clear = purpose
        .1
        .find(Locator::Css("[data-testid=\"mapping-clear\"]"))
        .await
        .expect("clear button");
    clear.click().await.expect("clear the purpose mapping");
    app.click("mapping-save").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    app.click("config-import").await;
    let diff = app.wait_text("import-diff", "the diff", |t| !t.trim().is_empty()).await;
    assert!(
        diff.contains("sim_bool_checkbox"),
        "the diff shows the purpose mapping coming back: {diff}"
    );
    app.screenshot("import-diff").await;
    app.click("import-apply").await;
    for _ in 0..100 {
        if !app.exists("import-diff").await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let restored = app
        .js("return Array.from(document.querySelectorAll('[data-testid=mapping-combobox]')).map(i => i.value).join('|')")
        .await;
    assert!(
        restored.as_str().unwrap_or_default().starts_with("Single checkbox (bool)|"),
        "the imported mapping puts the purpose's property back on screen: {restored}"
    );

    // ---- Sync: a dry run, then a push with progress, then History.
    app.click("nav-sync").await;
    app.click("sync-dry-run").await;
    let plan = app.wait_testid("dry-run-plan").await;
    let to_update: u64 =
        plan.attr("data-to-update").await.ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
    let to_create: u64 =
        plan.attr("data-to-create").await.ok().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!(
        to_update + to_create > 0,
        "the dry run plans writes ({to_update} updates, {to_create} creates)"
    );
    app.screenshot("sync-dry-run").await;

    app.click("sync-push").await;
    let status = app
        .wait_text("sync-status", "a final status", |t| {
            let t = t.to_lowercase();
            t.contains("succeeded")
                || t.contains("partial")
                || t.contains("failed")
                || t.contains("cancelled")
        })
        .await;
    assert!(status.to_lowercase().contains("succeeded"), "the push succeeds: {status}");
    app.screenshot("sync-done").await;

    // Auto-sync on every 5 minutes: the card and the status bar say when, and the interval is
    // in the settings store on disk.
    app.fill("auto-sync-minutes", "5").await;
    app.click("auto-sync-on").await;
    app.wait_text("auto-sync-schedule", "the next run", |t| t.starts_with("Next run")).await;
    app.wait_text("auto-sync-indicator", "the status bar note", |t| t.contains("next run")).await;
    let stored = profile.all_file_contents().into_iter().any(|(path, bytes)| {
        let text = String::from_utf8_lossy(&bytes);
        path.extension().is_some_and(|e| e == "json")
            && text.replace(char::is_whitespace, "").contains("\"autoSyncMinutes\":5")
    });
    assert!(stored, "the interval is saved in the settings store");
    app.screenshot("sync-auto").await;

    let stats: serde_json::Value = reqwest::get(format!("{hubspot}/_sim/hubspot/stats"))
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    assert!(stats.to_string().contains("write"), "the simulator counted writes: {stats}");

    app.click("nav-history").await;
    let run = app.wait_testid("history-run").await;
    assert_eq!(
        run.attr("data-status").await.ok().flatten().as_deref().map(str::to_lowercase).as_deref(),
        Some("succeeded"),
        "History lists the push as succeeded"
    );
    app.wait_testid("history-chart").await;
    run.find(Locator::Css("button"))
        .await
        .expect("the run's button")
        .click()
        .await
        .expect("open the run");
    app.wait_testid("history-records").await;
    app.screenshot("history").await;
    app.click("history-export-csv").await;
    let mut csv = None;
    for _ in 0..100 {
        csv = std::fs::read_dir(profile.dialog_dir()).ok().and_then(|rd| {
            rd.flatten().map(|e| e.path()).find(|p| p.to_string_lossy().ends_with(".csv"))
        });
        if csv.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv = csv.expect("the CSV of records not written was written");
    let head = std::fs::read_to_string(&csv).expect("read CSV");
    assert!(
        head.lines().next().unwrap_or_default().to_lowercase().contains("email"),
        "the CSV has a header with email: {head}"
    );
    app.quit().await;
}

/// Enables the bidirectional flow with the connected portal's id (issue 4's Options screen).
async fn enable_bidirectional(app: &App, portal_id: &str) {
    app.click("nav-options").await;
    app.click("options-bidirectional").await;
    app.fill("options-account-id", &format!("{portal_id}\u{e007}")).await;
    app.wait_text("options-bidirectional-status", "the flow on", |t| !t.trim().is_empty()).await;
}

/// Issue 6 in the window: bidirectional on, a purpose mapped and pushed, the Sandbox workflow
/// emulated, a contact edited in the simulated portal as a person would, Check sees the counter
/// rise, a pull writes the change to the Didomi user, and History lists the pull.
#[tokio::test]
async fn bidirectional_pull_after_an_edit_in_hubspot() {
    let profile = Profile::new();
    let app = App::start("pull", &profile).await;
    app.connect_both(&profile).await;
    let (hubspot, didomi) = app.simulator_urls().await;
    let info: serde_json::Value = reqwest::get(format!("{hubspot}/_sim/hubspot/info"))
        .await
        .expect("info")
        .json()
        .await
        .expect("info JSON");
    enable_bidirectional(&app, &info["portalId"].to_string()).await;

    app.click("nav-mapping").await;
    app.wait_testid("mapping-row").await;
    let booleans = rows_of_kind(&app, "boolean").await;
    let (item, purpose_row) =
        booleans.iter().find(|(i, _)| i.contains("\"purpose\"")).expect("a purpose row");
    let item: serde_json::Value = serde_json::from_str(item).expect("data-item is JSON");
    let purpose_id = item["purposeId"].as_str().expect("purpose id").to_owned();
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
    assert!(
        final_status(&app, "sync-status").await.contains("succeeded"),
        "the first push succeeds"
    );

    app.click("nav-workflow").await;
    app.wait_testid("screen-workflow").await;
    app.click("workflow-simulate").await;
    app.wait_text("workflow-simulate-status", "the emulated workflow on", |t| t.starts_with("On"))
        .await;
    app.screenshot("workflow").await;

    // A contact on both sides whose purpose was pushed: flip it in the simulated portal, as a
    // person editing the contact in HubSpot would.
    let (contact_id, email, was) =
        pushed_contact_on_both_sides(&hubspot, &didomi, "sim_bool_checkbox").await;
    let edit = reqwest::Client::new()
        .post(format!("{hubspot}/_sim/hubspot/contacts/{contact_id}/edit"))
        .json(&serde_json::json!({"property": "sim_bool_checkbox", "value": (!was).to_string(), "source": "CRM_UI"}))
        .send()
        .await
        .expect("edit in the simulated portal");
    assert!(edit.status().is_success(), "the portal edit is accepted");

    app.fill("workflow-check-email", &format!("{email}\u{e007}")).await;
    let check = app.wait_testid("workflow-check-result").await;
    for _ in 0..100 {
        if check.attr("data-status").await.ok().flatten().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        check.attr("data-status").await.ok().flatten().as_deref(),
        Some("works"),
        "Check sees Didomi Changed rise: {}",
        check.text().await.unwrap_or_default()
    );

    app.click("nav-sync").await;
    app.click("sync-pull").await;
    let pulled = final_status(&app, "sync-pull-status").await;
    assert!(pulled.contains("succeeded"), "the pull succeeds: {pulled}");
    app.screenshot("sync-pull").await;

    let user: serde_json::Value = reqwest::get(format!("{didomi}/_sim/didomi/users/{email}"))
        .await
        .expect("didomi user")
        .json()
        .await
        .expect("user JSON");
    let purpose = user["consents"]["purposes"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == purpose_id.as_str()))
        .unwrap_or_else(|| panic!("the user has the purpose {purpose_id}: {user}"));
    assert_eq!(
        purpose["enabled"],
        serde_json::json!(!was),
        "the pull wrote the HubSpot edit to Didomi: {user}"
    );

    app.click("nav-history").await;
    app.wait_testid("history-run").await;
    let text = app.page_text().await;
    assert!(text.contains("HubSpot → Didomi"), "History lists the pull");
    app.quit().await;
}
