//! The emulated "Didomi Changed" workflow and the portal page, as a client and a person see
//! them: configuration checks, the increment on any change of a trigger property (API writes,
//! batch writes and UI edits alike, none for other properties, unchanged values or a disabled
//! workflow), its history source, and editing a contact through the page.

mod hubspot_common;

use hubspot_common::*;
use serde_json::{json, Value};

async fn setup() -> (dhs_simulator::Simulator, reqwest::Client, String, String) {
    let sim = sim().await;
    let c = client();
    let base = sim.info.hubspot.clone();
    let tok = token(&sim);
    let r = c
        .post(format!("{base}/crm/v3/properties/contacts"))
        .bearer_auth(&tok)
        .json(&json!({"groupName": "contactinformation", "name": "didomi_changed", "label": "Didomi Changed",
                       "type": "number", "fieldType": "number"}))
        .send()
        .await
        .expect("create counter");
    assert_eq!(r.status().as_u16(), 201, "counter property created");
    (sim, c, base, tok)
}

async fn put_workflow(c: &reqwest::Client, base: &str, body: Value) -> (u16, Value) {
    let r = c.put(format!("{base}/_sim/hubspot/workflow")).json(&body).send().await.expect("put");
    (r.status().as_u16(), r.json().await.expect("json"))
}

fn counter(sim: &dhs_simulator::Simulator, id: u64) -> Option<String> {
    sim.hubspot.contact(id).expect("contact").properties.get("didomi_changed").cloned()
}

#[tokio::test]
async fn configuration_is_checked_and_reported() {
    let (sim, c, base, _) = setup().await;
    let (s, b) =
        put_workflow(&c, &base, json!({"enabled": true, "triggerProperties": ["nope"]})).await;
    assert_eq!(s, 400, "unknown trigger refused: {b}");
    assert!(b["error"].as_str().unwrap().contains("nope"), "the error names the property: {b}");
    let (s, b) = put_workflow(
        &c,
        &base,
        json!({"enabled": true, "triggerProperties": ["didomi_changed"], "property": "didomi_changed"}),
    )
    .await;
    assert_eq!(s, 400, "the counter cannot trigger itself: {b}");
    let (s, b) = put_workflow(
        &c,
        &base,
        json!({"enabled": true, "triggerProperties": ["firstname"], "property": "email"}),
    )
    .await;
    assert_eq!(s, 400, "a text counter is refused: {b}");
    let (s, b) =
        put_workflow(&c, &base, json!({"enabled": true, "triggerProperties": [], "bogus": 1}))
            .await;
    assert_eq!(s, 400, "unknown fields refused: {b}");
    let (s, b) = put_workflow(
        &c,
        &base,
        json!({"enabled": true, "triggerProperties": ["sim_bool_checkbox"]}),
    )
    .await;
    assert_eq!(s, 200, "valid configuration accepted: {b}");
    assert_eq!(b["property"], "didomi_changed", "the counter defaults to didomi_changed");
    let got: Value =
        c.get(format!("{base}/_sim/hubspot/workflow")).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["triggerProperties"], json!(["sim_bool_checkbox"]), "configuration read back");
    assert_eq!(got["increments"], 0, "nothing ran yet");
    assert!(sim.hubspot.workflow().config.enabled, "the direct accessor agrees");
}

#[tokio::test]
async fn any_change_of_a_trigger_increments_the_counter() {
    let (sim, c, base, tok) = setup().await;
    let id = 1001u64;
    let patch = |props: Value| {
        let c = c.clone();
        let url = format!("{base}/crm/v3/objects/contacts/{id}");
        let tok = tok.clone();
        async move {
            let r = c
                .patch(url)
                .bearer_auth(tok)
                .json(&json!({"properties": props}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "patch accepted");
        }
    };
    patch(json!({"sim_bool_checkbox": "true"})).await;
    assert_eq!(counter(&sim, id), None, "no workflow yet: no counter");
    let (s, _) = put_workflow(
        &c,
        &base,
        json!({"enabled": true, "triggerProperties": ["sim_bool_checkbox"]}),
    )
    .await;
    assert_eq!(s, 200, "workflow on");
    patch(json!({"sim_bool_checkbox": "false"})).await;
    assert_eq!(counter(&sim, id).as_deref(), Some("1"), "an API write of a trigger increments");
    patch(json!({"sim_bool_checkbox": "false"})).await;
    assert_eq!(counter(&sim, id).as_deref(), Some("1"), "writing the same value is no change");
    patch(json!({"firstname": "Zed"})).await;
    assert_eq!(counter(&sim, id).as_deref(), Some("1"), "other properties do not trigger");
    sim.hubspot.set_property_value_as_user(id, "sim_bool_checkbox", "true").expect("ui edit");
    assert_eq!(counter(&sim, id).as_deref(), Some("2"), "a UI edit triggers too (re-enrollment)");
    let r = c
        .post(format!("{base}/crm/v3/objects/contacts/batch/update"))
        .bearer_auth(&tok)
        .json(&json!({"inputs": [{"id": "1002", "properties": {"sim_bool_checkbox": "true"}},
                                  {"id": "1003", "properties": {"lastname": "X"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "batch update accepted");
    assert_eq!(counter(&sim, 1002).as_deref(), Some("1"), "batch writes trigger per record");
    assert_eq!(counter(&sim, 1003), None, "a record without trigger changes is not enrolled");
    let h = sim.hubspot.history(id, "didomi_changed");
    assert_eq!(h[0].value, "2", "history newest first");
    assert_eq!(h[0].source_type, "WORKFLOW", "the increment is the workflow's");
    let hist: Value = c
        .get(format!("{base}/crm/v3/objects/contacts/{id}?propertiesWithHistory=didomi_changed"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        hist["propertiesWithHistory"]["didomi_changed"][0]["sourceType"], "WORKFLOW",
        "the API shows the workflow source: {hist}"
    );
    assert_eq!(sim.hubspot.workflow().increments, 3, "three enrollments counted");
    let (s, _) = put_workflow(
        &c,
        &base,
        json!({"enabled": false, "triggerProperties": ["sim_bool_checkbox"]}),
    )
    .await;
    assert_eq!(s, 200, "workflow off");
    patch(json!({"sim_bool_checkbox": "false"})).await;
    assert_eq!(counter(&sim, id).as_deref(), Some("2"), "a disabled workflow does nothing");
}

#[tokio::test]
async fn many_contacts_can_share_one_modification_time() {
    let (sim, _, _, _) = setup().await;
    sim.hubspot
        .set_workflow(dhs_simulator::hubspot::workflow::WorkflowConfig {
            enabled: true,
            trigger_properties: vec!["sim_bool_checkbox".into()],
            property: "didomi_changed".into(),
        })
        .expect("workflow on");
    let ids: Vec<u64> = (1001..1051).collect();
    let at = 1_700_000_000_123;
    let n = sim.hubspot.edit_many_as_user(&ids, "sim_bool_checkbox", "true", at).expect("edits");
    assert_eq!(n, 50, "all changed");
    for id in &ids {
        let v = sim.hubspot.contact(*id).unwrap();
        assert_eq!(v.updated_ms, at, "modification time pinned for {id}");
        assert_eq!(
            v.properties.get("didomi_changed").map(String::as_str),
            Some("1"),
            "counter rose for {id}"
        );
    }
    assert!(
        sim.hubspot.edit_many_as_user(&[9_999_999], "sim_bool_checkbox", "true", at).is_err(),
        "unknown id refused"
    );
}

#[tokio::test]
async fn the_portal_page_lists_searches_and_edits_as_a_person() {
    let (sim, c, base, _) = setup().await;
    let (s, _) = put_workflow(
        &c,
        &base,
        json!({"enabled": true, "triggerProperties": ["sim_bool_checkbox"]}),
    )
    .await;
    assert_eq!(s, 200, "workflow on");
    let first = sim.hubspot.contact(1001).unwrap();
    let email = first.properties["email"].clone();
    let html =
        c.get(format!("{base}/_sim/hubspot/portal")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"contacts\""), "the list is there");
    let q = url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>();
    let html = c
        .get(format!("{base}/_sim/hubspot/portal?q={q}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&email), "the search finds the contact");
    let html = c
        .get(format!("{base}/_sim/hubspot/portal?q=zzzz-nobody"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"empty\""), "no match says so");
    let html = c
        .get(format!("{base}/_sim/hubspot/portal?contact=1001"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"property\"") && html.contains("sim_bool_checkbox"),
        "edit form offers properties"
    );
    let r = c
        .post(format!("{base}/_sim/hubspot/portal/edit"))
        .form(&[("id", "1001"), ("property", "sim_bool_checkbox"), ("value", "true"), ("q", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the form redirects back");
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.contains("saved="), "back to the contact with a saved note: {loc}");
    let h = sim.hubspot.history(1001, "sim_bool_checkbox");
    assert_eq!(
        (h[0].value.as_str(), h[0].source_type.as_str()),
        ("true", "CRM_UI"),
        "edited as a person"
    );
    assert_eq!(counter(&sim, 1001).as_deref(), Some("1"), "the workflow fired");
    let r = c
        .post(format!("{base}/_sim/hubspot/portal/edit"))
        .form(&[("id", "1001"), ("property", "sim_bool_checkbox"), ("value", "maybe")])
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.contains("error="), "a bad value comes back as an error: {loc}");
    let html = c.get(format!("{base}{loc}")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"error\""), "the page shows the error");
}
