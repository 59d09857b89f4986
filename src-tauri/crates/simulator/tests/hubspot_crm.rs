//! The simulated HubSpot's CRM as a real client sees it: properties and groups (model, matrix,
//! 409, archive), contacts (create/get/update/archive, by email, list paging), value validation,
//! history, batch endpoints (limits, 207), search (operators, sorting, paging cap), both path
//! versions, and the reference example shapes.

mod hubspot_common;

use hubspot_common::*;
use serde_json::{json, Value};

struct Api {
    c: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(sim: &dhs_simulator::Simulator) -> Self {
        Self { c: client(), base: sim.info.hubspot.clone(), token: token(sim) }
    }
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.c.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("json body")
            },
        )
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

async fn didomi_group_and_property(api: &Api) -> Value {
    let (s, _) = api
        .post(
            "/crm/v3/properties/contacts/groups",
            json!({"name": "didomi", "label": "Didomi", "displayOrder": -1}),
        )
        .await;
    assert_eq!(s, 201, "group created");
    let (s, p) = api
        .post(
            "/crm/v3/properties/contacts",
            json!({"groupName": "didomi", "name": "didomi_changed", "label": "Didomi Changed",
                   "type": "number", "fieldType": "number", "description": "Last consent change counter"}),
        )
        .await;
    assert_eq!(s, 201, "property created: {p}");
    p
}

#[tokio::test]
async fn standard_and_custom_properties_are_seeded() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (s, body) = api.get("/crm/properties/2026-03/contacts").await;
    assert_eq!(s, 200, "list works on the date path");
    let list = body["results"].as_array().expect("results");
    assert!(list.len() >= 170, "150+ standard and the custom ones, got {}", list.len());
    assert!(body.get("paging").is_none(), "property lists have no paging");
    let by = |n: &str| list.iter().find(|p| p["name"] == n).cloned();
    let oid = by("hs_object_id").expect("hs_object_id listed");
    assert_eq!(oid["modificationMetadata"]["readOnlyValue"], true, "hs_object_id is read-only");
    assert_eq!(oid["hubspotDefined"], true, "built-in");
    assert!(by("sim_sensitive_note").is_none(), "sensitive properties hidden by default");
    assert!(by("sim_archived").is_none(), "archived properties hidden by default");
    let (_, sens) = api.get("/crm/v3/properties/contacts?dataSensitivity=sensitive").await;
    assert!(
        sens["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|p| p["name"] == "sim_sensitive_note"),
        "asked for sensitive"
    );
    let (_, arch) = api.get("/crm/v3/properties/contacts?archived=true").await;
    assert!(
        arch["results"].as_array().expect("results").iter().any(|p| p["name"] == "sim_archived"),
        "asked for archived"
    );
    let yes_no = by("sim_yes_no_select").expect("yes/no select");
    assert_eq!(yes_no["options"][0]["label"], "Yes", "label Yes");
    assert_eq!(yes_no["options"][0]["value"], "true", "value true");
    assert_shape("property_option.json", &yes_no["options"][0], &["description"]);
    for (name, type_, field) in [
        ("sim_bool_checkbox", "bool", "booleancheckbox"),
        ("sim_enum_true_only", "enumeration", "booleancheckbox"),
        ("sim_multi_checkbox", "enumeration", "checkbox"),
        ("sim_radio", "enumeration", "radio"),
        ("sim_textarea", "string", "textarea"),
        ("sim_phone", "string", "phonenumber"),
        ("sim_date", "date", "date"),
        ("sim_datetime", "datetime", "date"),
        ("sim_number", "number", "number"),
    ] {
        let p = by(name).unwrap_or_else(|| panic!("{name} listed"));
        assert_eq!(
            (p["type"].as_str(), p["fieldType"].as_str()),
            (Some(type_), Some(field)),
            "{name} kind"
        );
    }
    assert_eq!(by("sim_hidden").expect("hidden listed")["hidden"], true, "hidden flag");
    let (s, one) = api.get("/crm/v3/properties/contacts/email").await;
    assert_eq!((s, one["hasUniqueValue"].as_bool()), (200, Some(true)), "get one; email is unique");
}

#[tokio::test]
async fn property_create_matches_the_reference_and_enforces_rules() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let p = didomi_group_and_property(&api).await;
    assert_shape("property.json", &p, &[]);
    let (s, e) = api
        .post("/crm/v3/properties/contacts", json!({"groupName": "didomi", "name": "didomi_changed", "label": "x", "type": "number", "fieldType": "number"}))
        .await;
    assert_eq!((s, e["category"].as_str()), (409, Some("CONFLICT")), "existing name → 409");
    assert_shape("error.json", &e, &["errors"]);
    let (s, _) = api
        .post("/crm/v3/properties/contacts/groups", json!({"name": "didomi", "label": "Didomi"}))
        .await;
    assert_eq!(s, 409, "existing group → 409");
    let (s, e) = api
        .post("/crm/v3/properties/contacts", json!({"groupName": "didomi", "name": "bad_pair", "label": "x", "type": "bool", "fieldType": "select"}))
        .await;
    assert_eq!(
        (s, e["category"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "bool/select is not a valid pair"
    );
    let (s, _) = api
        .post("/crm/v3/properties/contacts", json!({"groupName": "didomi", "name": "no_opts", "label": "x", "type": "enumeration", "fieldType": "select"}))
        .await;
    assert_eq!(s, 400, "enumeration without options refused");
    let (s, _) = api
        .post("/crm/v3/properties/contacts", json!({"groupName": "nogroup", "name": "x_y", "label": "x", "type": "string", "fieldType": "text"}))
        .await;
    assert_eq!(s, 400, "unknown group refused");
    let (s, b) = api
        .post(
            "/crm/v3/properties/contacts",
            json!({"groupName": "didomi", "name": "consent_newsletter", "label": "Newsletter consent", "type": "bool", "fieldType": "booleancheckbox",
                   "options": [{"label":"Yes","value":"true","hidden":false},{"label":"No","value":"false","hidden":false}]}),
        )
        .await;
    assert_eq!(s, 201, "the reference's bool example is accepted: {b}");
    let (s, u) = api
        .patch("/crm/v3/properties/contacts/consent_newsletter", json!({"label": "Newsletter"}))
        .await;
    assert_eq!((s, u["label"].as_str()), (200, Some("Newsletter")), "label updated");
    let (s, _) = api
        .patch("/crm/v3/properties/contacts/consent_newsletter", json!({"name": "renamed"}))
        .await;
    assert_eq!(s, 400, "name cannot be updated");
    let (s, _) = api
        .patch("/crm/v3/properties/contacts/consent_newsletter", json!({"fieldType": "text"}))
        .await;
    assert_eq!(s, 400, "update re-checks the matrix");
    let (s, _) = api.patch("/crm/v3/properties/contacts/email", json!({"label": "E-mail"})).await;
    assert_eq!(s, 400, "HubSpot-defined definitions are read-only");
    let (s, _) = api.delete("/crm/v3/properties/contacts/email").await;
    assert_eq!(s, 400, "standard properties are not archivable");
    let (s, _) = api.delete("/crm/v3/properties/contacts/consent_newsletter").await;
    assert_eq!(s, 204, "custom property archived");
    let (s, _) = api.get("/crm/v3/properties/contacts/consent_newsletter").await;
    assert_eq!(s, 404, "archived property is gone by default");
    let (s, a) = api.get("/crm/v3/properties/contacts/consent_newsletter?archived=true").await;
    assert_eq!((s, a["archived"].as_bool()), (200, Some(true)), "readable with archived=true");
}

#[tokio::test]
async fn contacts_crud_by_id_and_email_with_history() {
    let sim = sim().await;
    let api = Api::new(&sim);
    didomi_group_and_property(&api).await;
    let (s, created) = api
        .post(
            "/crm/objects/2026-03/contacts",
            json!({"properties": {"email": "Ada@Example.com", "firstname": "Ada"}}),
        )
        .await;
    assert_eq!(s, 201, "created: {created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["properties"]["hs_object_id"], id.as_str(), "hs_object_id is the id");
    let (s, e) = api
        .post("/crm/v3/objects/contacts", json!({"properties": {"email": "ada@example.COM"}}))
        .await;
    assert_eq!(
        (s, e["category"].as_str()),
        (409, Some("CONFLICT")),
        "email unique case-insensitively"
    );
    assert!(
        e["message"].as_str().expect("msg").contains(&format!("Existing ID: {id}")),
        "names the existing id"
    );
    let before = sim.hubspot.contact(id.parse().expect("num")).expect("exists").updated_ms;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (s, _) = api
        .patch(
            &format!("/crm/v3/objects/contacts/{id}"),
            json!({"properties": {"didomi_changed": "3"}}),
        )
        .await;
    assert_eq!(s, 200, "update by id");
    let after = sim.hubspot.contact(id.parse().expect("num")).expect("exists").updated_ms;
    assert!(after > before, "lastmodifieddate moves on write");
    sim.hubspot
        .set_property_value_as_user(id.parse().expect("num"), "didomi_changed", "4")
        .expect("UI edit");
    let (s, got) = api
        .get("/crm/v3/objects/contacts/ADA@example.com?idProperty=email&properties=email,firstname,didomi_changed&propertiesWithHistory=didomi_changed")
        .await;
    assert_eq!(s, 200, "get by email, any case");
    assert_eq!(got["id"], id.as_str(), "same contact");
    assert_shape("contact.json", &got, &["sourceLabel", "updatedByUserId"]);
    let hist = got["propertiesWithHistory"]["didomi_changed"].as_array().expect("history");
    assert_eq!(hist.len(), 2, "two changes recorded: {hist:?}");
    assert_eq!(
        (hist[0]["value"].as_str(), hist[0]["sourceType"].as_str()),
        (Some("4"), Some("CRM_UI")),
        "UI edit newest"
    );
    assert_eq!(hist[0]["updatedByUserId"], sim.hubspot.user().id, "UI edit names the user");
    assert_eq!(
        (hist[1]["value"].as_str(), hist[1]["sourceType"].as_str()),
        (Some("3"), Some("INTEGRATION")),
        "API write"
    );
    assert_eq!(hist[1]["sourceId"], sim.hubspot.app_id().to_string(), "API write names the app");
    let (_, unset) = api.get(&format!("/crm/v3/objects/contacts/{id}?properties=lastname")).await;
    assert_eq!(unset["properties"]["lastname"], Value::Null, "requested but unset → null");
    let (s, _) = api.delete(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(s, 204, "archive");
    let (s, nf) = api.get(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(
        (s, nf["category"].as_str()),
        (404, Some("OBJECT_NOT_FOUND")),
        "archived contact not found"
    );
    let (s, _) = api.get(&format!("/crm/v3/objects/contacts/{id}?archived=true")).await;
    assert_eq!(s, 200, "still readable as archived");
    let (s, _) = api
        .post("/crm/v3/objects/contacts", json!({"properties": {"email": "ada@example.com"}}))
        .await;
    assert_eq!(s, 201, "the email of an archived contact is free again");
}

#[tokio::test]
async fn value_validation_errors() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let id = sim.hubspot.contact_by_email(&people_email(&sim)).expect("seeded contact").id;
    let cases = [
        (json!({"sim_select": "huge"}), "INVALID_OPTION"),
        (json!({"sim_multi_checkbox": "email;fax"}), "INVALID_OPTION"),
        (json!({"sim_enum_true_only": "false"}), "INVALID_OPTION"),
        (json!({"sim_bool_checkbox": "yes"}), "INVALID_BOOLEAN"),
        (json!({"sim_number": "1,000"}), "INVALID_NUMBER"),
        (json!({"sim_date": "2025-13-45"}), "INVALID_DATE"),
        (json!({"sim_text": "x".repeat(65_537)}), "MAX_LENGTH_EXCEEDED"),
        (json!({"nope_nope": "1"}), "PROPERTY_DOESNT_EXIST"),
        (json!({"sim_archived": "1"}), "PROPERTY_DOESNT_EXIST"),
        (json!({"hs_object_id": "1"}), "READ_ONLY_VALUE"),
        (json!({"num_notes": "1"}), "READ_ONLY_VALUE"),
        (json!({"email": "not an email"}), "INVALID_EMAIL"),
    ];
    for (props, code) in cases {
        let (s, e) = api
            .patch(&format!("/crm/v3/objects/contacts/{id}"), json!({"properties": props}))
            .await;
        assert_eq!(s, 400, "{props} must be refused");
        assert_eq!(e["category"], "VALIDATION_ERROR", "{props}: category");
        assert_eq!(e["errors"][0]["code"], code, "{props}: code in {e}");
        assert!(
            e["message"].as_str().expect("m").starts_with("Property values were not valid"),
            "HubSpot's message"
        );
    }
    let (s, e) = api
        .patch(
            &format!("/crm/v3/objects/contacts/{id}"),
            json!({"properties": {"sim_sensitive_note": "x"}}),
        )
        .await;
    assert_eq!(
        (s, e["category"].as_str()),
        (403, Some("MISSING_SCOPES")),
        "sensitive values need the sensitive scope"
    );
    let ok = json!({"properties": {"sim_multi_checkbox": "email", "sim_yes_no_select": "true", "sim_date": "1572480000000",
        "sim_datetime": "1717200000000", "sim_number": "-3.5", "sim_text": "x".repeat(65_536)}});
    let (s, body) = api.patch(&format!("/crm/v3/objects/contacts/{id}"), ok).await;
    assert_eq!(s, 200, "valid values accepted");
    assert_eq!(body["properties"]["sim_date"], "2019-10-31", "dates come back as YYYY-MM-DD");
    assert_eq!(body["properties"]["sim_datetime"], "2024-06-01T00:00:00.000Z", "datetimes as ISO");
    let (_, body) = api
        .patch(
            &format!("/crm/v3/objects/contacts/{id}"),
            json!({"properties": {"sim_multi_checkbox": ";sms"}}),
        )
        .await;
    assert_eq!(body["properties"]["sim_multi_checkbox"], "email;sms", "leading ; appends");
    let (_, body) = api
        .patch(&format!("/crm/v3/objects/contacts/{id}"), json!({"properties": {"sim_number": ""}}))
        .await;
    assert_eq!(body["properties"]["sim_number"], Value::Null, "empty string clears");
}

fn people_email(sim: &dhs_simulator::Simulator) -> String {
    dhs_simulator::people::people(42, 200)
        .find(|p| p.on_hubspot())
        .map(|p| p.hubspot_email)
        .filter(|_| sim.hubspot.seed() == 42)
        .expect("a HubSpot person")
}

#[tokio::test]
async fn seeded_contacts_and_list_paging() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let expected = dhs_simulator::people::people(42, 200).filter(|p| p.on_hubspot()).count();
    assert_eq!(sim.hubspot.contact_count(), expected, "every on_hubspot() person is a contact");
    let mut seen = 0;
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &after {
            Some(a) => format!("/crm/v3/objects/contacts?limit=100&after={a}"),
            None => "/crm/v3/objects/contacts?limit=100".to_string(),
        };
        let (s, body) = api.get(&path).await;
        assert_eq!(s, 200, "page");
        if pages == 0 {
            assert_shape("list_page.json", &body, &[]);
        }
        let results = body["results"].as_array().expect("results");
        assert!(results.len() <= 100, "page size capped");
        seen += results.len();
        pages += 1;
        match body["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, expected, "paging walks every contact once");
    assert_eq!(pages, expected.div_ceil(100), "pages of 100");
    let (s, _) = api.get("/crm/v3/objects/contacts?limit=101").await;
    assert_eq!(s, 400, "limit above 100 refused");
    let (_, first) = api.get("/crm/v3/objects/contacts?limit=1").await;
    let props = first["results"][0]["properties"].as_object().expect("props");
    for k in ["email", "firstname", "lastname"] {
        assert!(props.contains_key(k), "default property {k}");
    }
}

#[tokio::test]
async fn batch_read_update_upsert_and_limits() {
    let sim = sim().await;
    let api = Api::new(&sim);
    didomi_group_and_property(&api).await;
    let email = people_email(&sim);
    let (s, body) = api
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"idProperty": "email", "properties": ["email", "didomi_changed"], "propertiesWithHistory": [],
                   "inputs": [{"id": email.to_uppercase()}, {"id": "nobody@example.com"}]}),
        )
        .await;
    assert_eq!(s, 207, "one missing → 207");
    assert_shape("batch_207.json", &body, &[]);
    assert_eq!(body["numErrors"], 1, "one error");
    assert_eq!(
        body["errors"][0]["context"]["ids"][0], "nobody@example.com",
        "names the missing id"
    );
    assert_eq!(body["results"].as_array().map(Vec::len), Some(1), "the found one returned");
    let too_many: Vec<Value> = (0..101).map(|i| json!({"id": format!("{i}")})).collect();
    let (s, _) = api
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"properties": [], "propertiesWithHistory": [], "inputs": too_many}),
        )
        .await;
    assert_eq!(s, 400, "101 inputs refused");
    let fifty_one: Vec<Value> = (0..51).map(|i| json!({"id": format!("{i}")})).collect();
    let (s, _) = api
        .post(
            "/crm/v3/objects/contacts/batch/read",
            json!({"properties": [], "propertiesWithHistory": ["email"], "inputs": fifty_one}),
        )
        .await;
    assert_eq!(s, 400, "history reads are capped at 50");
    let (s, up) = api
        .post(
            "/crm/v3/objects/contacts/batch/upsert",
            json!({"inputs": [
                {"id": email.to_lowercase(), "idProperty": "email", "properties": {"didomi_changed": "4"}},
                {"id": "new.person@example.com", "idProperty": "email", "properties": {"didomi_changed": "1"}},
                {"id": "bad@example.com", "idProperty": "email", "properties": {"sim_select": "nope"}}
            ]}),
        )
        .await;
    assert_eq!(s, 207, "one invalid input → 207: {up}");
    let results = up["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "the two valid inputs applied");
    assert!(results.iter().any(|r| r["new"] == true), "one created");
    assert!(results.iter().any(|r| r["new"] == false), "one updated");
    assert_eq!(up["errors"][0]["category"], "VALIDATION_ERROR", "per-input error");
    assert!(
        sim.hubspot.contact_by_email("new.person@example.com").is_some(),
        "upsert created the contact with its email"
    );
    assert!(
        sim.hubspot.contact_by_email("bad@example.com").is_none(),
        "the invalid input wrote nothing"
    );
    let id = sim.hubspot.contact_by_email(&email).expect("exists").id.to_string();
    let (s, e) = api
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": id, "properties": {}}, {"id": id, "properties": {}}]}),
        )
        .await;
    assert_eq!(
        (s, e["category"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "duplicate ids refused"
    );
    let (s, upd) = api
        .post("/crm/v3/objects/contacts/batch/update", json!({"inputs": [{"id": id, "properties": {"didomi_changed": "5"}}, {"id": "99999999", "properties": {}}]}))
        .await;
    assert_eq!(s, 207, "unknown id → 207");
    assert_eq!(upd["errors"][0]["category"], "OBJECT_NOT_FOUND", "not found item");
    assert_eq!(
        sim.hubspot.contact_by_email(&email).expect("c").properties["didomi_changed"],
        "5",
        "valid input applied"
    );
    let stats = sim.hubspot.stats();
    assert!(stats.records_written >= 3, "records counted: {stats:?}");
    assert_eq!(
        stats.requests.get("contacts.batch").copied(),
        Some(6),
        "batch requests counted: {stats:?}"
    );
}

#[tokio::test]
async fn batch_create_is_all_or_nothing_without_trace_ids() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let before = sim.hubspot.contact_count();
    let inputs = json!([{"properties": {"email": "one@example.com"}}, {"properties": {"email": "two@example.com", "sim_select": "nope"}}]);
    let (s, _) = api.post("/crm/v3/objects/contacts/batch/create", json!({"inputs": inputs})).await;
    assert_eq!(s, 400, "one bad input fails the batch");
    assert_eq!(sim.hubspot.contact_count(), before, "nothing written");
    let inputs = json!([{"properties": {"email": "one@example.com"}, "objectWriteTraceId": "a"},
                        {"properties": {"email": "two@example.com", "sim_select": "nope"}, "objectWriteTraceId": "b"}]);
    let (s, body) =
        api.post("/crm/v3/objects/contacts/batch/create", json!({"inputs": inputs})).await;
    assert_eq!(s, 207, "with trace ids: per-input result");
    assert_eq!(
        body["errors"][0]["context"]["objectWriteTraceId"][0], "b",
        "failure echoes its trace id"
    );
    assert_eq!(sim.hubspot.contact_count(), before + 1, "the valid one written");
    let (s, body) = api
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [{"properties": {"email": "three@example.com"}}]}),
        )
        .await;
    assert_eq!((s, body["status"].as_str()), (201, Some("COMPLETE")), "all good → 201 COMPLETE");
}

#[tokio::test]
async fn search_filters_sorts_and_pages() {
    let sim = sim_with(|c| {
        c.users = 30_000;
        c.hubspot_search_per_s = 1000;
    })
    .await;
    let api = Api::new(&sim);
    let total = sim.hubspot.contact_count();
    let (s, body) = api
        .post("/crm/v3/objects/contacts/search", json!({"filterGroups": [], "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 200, "after": "0"}))
        .await;
    assert_eq!(s, 200, "search");
    assert_shape("search_response.json", &body, &[]);
    assert_eq!(body["total"], total, "total counts every match");
    let props = body["results"][0]["properties"].as_object().expect("props");
    for k in ["createdate", "hs_object_id", "lastmodifieddate", "email"] {
        assert!(props.contains_key(k), "search default property {k}");
    }
    let (s, e) =
        api.post("/crm/v3/objects/contacts/search", json!({"limit": 200, "after": "9900"})).await;
    assert_eq!(
        (s, e["category"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "paging past 10,000 → 400"
    );
    let (s, _) = api.post("/crm/v3/objects/contacts/search", json!({"limit": 201})).await;
    assert_eq!(s, 400, "limit above 200 refused");
    let (s, _) = api
        .post(
            "/crm/v3/objects/contacts/search",
            json!({"sorts": [{"propertyName": "email"}, {"propertyName": "firstname"}]}),
        )
        .await;
    assert_eq!(s, 400, "one sort only");
    let groups: Vec<Value> = (0..6)
        .map(|_| json!({"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}))
        .collect();
    let (s, _) = api.post("/crm/v3/objects/contacts/search", json!({"filterGroups": groups})).await;
    assert_eq!(s, 400, "at most 5 groups");
    // Numeric comparison on hs_object_id and lastmodifieddate.
    let (_, gt) = api
        .post("/crm/v3/objects/contacts/search", json!({"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": "10000"}]}], "limit": 1}))
        .await;
    assert_eq!(
        gt["total"].as_u64(),
        Some((total as u64 + 1001).saturating_sub(10001)),
        "numeric GT on ids, not string order"
    );
    let target = sim.hubspot.contact_by_email(&people_email(&sim)).expect("c");
    sim.hubspot.set_property_value_as_user(target.id, "firstname", "Zed").expect("edit");
    let since = sim.hubspot.contact(target.id).expect("c").updated_ms;
    let (_, recent) = api
        .post(
            "/crm/objects/2026-03/contacts/search",
            json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since.to_string()}]}],
                   "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "properties": ["email"], "limit": 200}),
        )
        .await;
    assert_eq!(recent["total"], 1, "only the edited contact is that recent: {recent}");
    assert_eq!(recent["results"][0]["id"], target.id.to_string(), "the edited contact");
    let (_, ors) = api
        .post(
            "/crm/v3/objects/contacts/search",
            json!({"filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": target.properties["email"].to_uppercase()}]},
                {"filters": [{"propertyName": "hs_object_id", "operator": "IN", "values": ["1001", "1002"]}]}
            ]}),
        )
        .await;
    let expect_or = 1 + [1001u64, 1002].iter().filter(|&&i| i != target.id).count();
    assert_eq!(
        ors["total"].as_u64(),
        Some(expect_or as u64),
        "groups are ORed; EQ on strings ignores case"
    );
    let (_, between) = api
        .post("/crm/v3/objects/contacts/search", json!({"filterGroups": [{"filters": [
            {"propertyName": "hs_object_id", "operator": "BETWEEN", "value": "1010", "highValue": "1019"},
            {"propertyName": "firstname", "operator": "NEQ", "value": "Zed"}]}]}))
        .await;
    assert!(
        between["total"].as_u64().is_some_and(|t| (9..=10).contains(&t)),
        "BETWEEN inclusive, ANDed with NEQ: {}",
        between["total"]
    );
    let (_, none) = api
        .post("/crm/v3/objects/contacts/search", json!({"filterGroups": [{"filters": [{"propertyName": "sim_number", "operator": "NOT_HAS_PROPERTY"}]}]}))
        .await;
    assert_eq!(none["total"], total, "nobody has sim_number");
    let (_, desc) = api
        .post("/crm/v3/objects/contacts/search", json!({"sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}], "limit": 5, "properties": ["createdate"]}))
        .await;
    let dates: Vec<&str> = desc["results"]
        .as_array()
        .expect("r")
        .iter()
        .map(|r| r["properties"]["createdate"].as_str().expect("d"))
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted, "descending createdate");
    let (_, page2) =
        api.post("/crm/v3/objects/contacts/search", json!({"limit": 200, "after": "200"})).await;
    assert_eq!(page2["paging"]["next"]["after"], "400", "next cursor");
}

#[tokio::test]
async fn property_batches_groups_and_repeated_query_params() {
    let sim = sim().await;
    let api = Api::new(&sim);
    didomi_group_and_property(&api).await;
    let (s, body) = api
        .post(
            "/crm/v3/properties/contacts/batch/create",
            json!({"inputs": [
                {"groupName": "didomi", "name": "consent_sms", "label": "SMS", "type": "bool", "fieldType": "booleancheckbox"},
                {"groupName": "didomi", "name": "didomi_changed", "label": "dup", "type": "number", "fieldType": "number"}
            ]}),
        )
        .await;
    assert_eq!(s, 207, "one duplicate → 207: {body}");
    assert_eq!(body["results"][0]["name"], "consent_sms", "the new one created");
    assert_eq!(
        body["results"][0]["options"].as_array().map(Vec::len),
        Some(2),
        "a bool property without options gets true/false"
    );
    assert_eq!(body["errors"][0]["category"], "CONFLICT", "the duplicate reported");
    let (s, read) = api
        .post(
            "/crm/v3/properties/contacts/batch/read",
            json!({"inputs": [{"name": "consent_sms"}, {"name": "email"}]}),
        )
        .await;
    assert_eq!((s, read["results"].as_array().map(Vec::len)), (200, Some(2)), "batch read");
    let (s, _) = api.delete("/crm/v3/properties/contacts/groups/didomi").await;
    assert_eq!(s, 400, "a group with properties cannot be archived");
    let (s, g) = api
        .patch("/crm/v3/properties/contacts/groups/didomi", json!({"label": "Didomi consents"}))
        .await;
    assert_eq!((s, g["label"].as_str()), (200, Some("Didomi consents")), "group label updated");
    let (s, _) = api
        .post(
            "/crm/v3/properties/contacts/batch/archive",
            json!({"inputs": [{"name": "consent_sms"}, {"name": "didomi_changed"}]}),
        )
        .await;
    assert_eq!(s, 204, "batch archive");
    let (s, _) = api.delete("/crm/v3/properties/contacts/groups/didomi").await;
    assert_eq!(s, 204, "an empty group can be archived");
    let (s, _) = api.get("/crm/v3/properties/contacts/groups/didomi").await;
    assert_eq!(s, 404, "archived group is gone");
    let stats = sim.hubspot.stats();
    assert_eq!(
        stats.requests.get("properties.read").copied(),
        Some(2),
        "batch/read counts as a read: {stats:?}"
    );
    let (s, one) =
        api.get("/crm/v3/objects/contacts?limit=1&properties=email&properties=lastname").await;
    assert_eq!(s, 200, "repeated query parameters accepted");
    let props = one["results"][0]["properties"].as_object().expect("props");
    assert!(
        props.contains_key("lastname") && props.contains_key("email"),
        "both repeated values used: {props:?}"
    );
    let (s, e) = api.get("/crm/v3/objects/contacts?archived=maybe").await;
    assert_eq!(
        (s, e["category"].as_str()),
        (400, Some("VALIDATION_ERROR")),
        "bad query → HubSpot's body"
    );
}

#[tokio::test]
async fn unique_custom_property_is_an_id_property_and_stays_unique() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (s, a) = api
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"email": "u1@example.com", "sim_unique_id": "EXT-1"}}),
        )
        .await;
    assert_eq!(s, 201, "created with a unique value: {a}");
    let (s, e) = api
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"email": "u2@example.com", "sim_unique_id": "EXT-1"}}),
        )
        .await;
    assert_eq!((s, e["category"].as_str()), (409, Some("CONFLICT")), "unique values cannot repeat");
    let (s, got) = api.get("/crm/v3/objects/contacts/EXT-1?idProperty=sim_unique_id").await;
    assert_eq!((s, got["id"].clone()), (200, a["id"].clone()), "usable as idProperty");
    let (s, _) = api.get("/crm/v3/objects/contacts/x?idProperty=firstname").await;
    assert_eq!(s, 400, "a non-unique property is not an idProperty");
    let (s, up) = api
        .post("/crm/v3/objects/contacts/batch/upsert", json!({"inputs": [{"id": "EXT-2", "idProperty": "sim_unique_id", "properties": {"firstname": "Uma"}}]}))
        .await;
    assert_eq!(
        (s, up["results"][0]["new"].as_bool()),
        (200, Some(true)),
        "upsert by a unique property creates"
    );
}

#[tokio::test]
async fn lifecycle_stage_only_moves_forward_unless_cleared() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let (_, c) = api
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"email": "l@example.com", "lifecyclestage": "lead"}}),
        )
        .await;
    let path = format!("/crm/v3/objects/contacts/{}", c["id"].as_str().expect("id"));
    let (s, _) = api.patch(&path, json!({"properties": {"lifecyclestage": "customer"}})).await;
    assert_eq!(s, 200, "forward is fine");
    let (s, e) = api.patch(&path, json!({"properties": {"lifecyclestage": "lead"}})).await;
    assert_eq!(
        (s, e["errors"][0]["code"].as_str()),
        (400, Some("INVALID_LIFECYCLE_STAGE")),
        "backward refused"
    );
    let (s, _) = api.patch(&path, json!({"properties": {"lifecyclestage": ""}})).await;
    assert_eq!(s, 200, "clearing is fine");
    let (s, _) = api.patch(&path, json!({"properties": {"lifecyclestage": "lead"}})).await;
    assert_eq!(s, 200, "after clearing any stage can be set");
}
