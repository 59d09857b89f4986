//! The simulator's Didomi answers have the shape of the reference's example bodies
//! (`tests/fixtures/didomi/*.json`, copied from didomi-api.md): every field of the example is
//! present with the same JSON type, at every depth.

use std::time::Duration;

use dhs_simulator::{start, Config, Simulator};
use serde_json::{json, Value};

const USER: &str = include_str!("fixtures/didomi/user.json");
const EVENT: &str = include_str!("fixtures/didomi/event_create.json");
const PREFERENCES: &str = include_str!("fixtures/didomi/preferences_page.json");
const TREES: &str = include_str!("fixtures/didomi/config_trees.json");
const ERROR: &str = include_str!("fixtures/didomi/error.json");
const SESSION_REQ: &str = include_str!("fixtures/didomi/session_request.json");
const SESSION_RES: &str = include_str!("fixtures/didomi/session_response.json");
const USERS_PAGE: &str = include_str!("fixtures/didomi/users_page.json");

/// Object keys that are ids or free-form (their entries are compared with the example's
/// first entry, not by name).
const DYNAMIC_MAPS: &[&str] = &["values", "metadata"];

/// Checks that `actual` has every field of `expected` with the same JSON type. `null` in the
/// example accepts anything; each element of an actual array must match one of the example's
/// elements.
fn same_shape(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) => {}
        (Value::Object(e), Value::Object(a)) => {
            let dynamic = DYNAMIC_MAPS.iter().any(|k| path.ends_with(&format!(".{k}")));
            if dynamic {
                if let Some(first) = e.values().next() {
                    for (k, v) in a {
                        same_shape(first, v, &format!("{path}.{k}"), problems);
                    }
                }
                return;
            }
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => same_shape(ev, av, &format!("{path}.{k}"), problems),
                    None => problems.push(format!("{path}.{k} is missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.is_empty() {
                return;
            }
            for (i, av) in a.iter().enumerate() {
                let fits = e.iter().any(|ev| {
                    let mut p = Vec::new();
                    same_shape(ev, av, path, &mut p);
                    p.is_empty()
                });
                if !fits {
                    // Report against the first example element for a readable message.
                    same_shape(&e[0], av, &format!("{path}[{i}]"), problems);
                }
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        (e, a) => problems.push(format!("{path}: expected {} like {e}, got {a}", kind(e))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn assert_same_shape(fixture: &str, actual: &Value, what: &str) {
    let expected: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    let mut problems = Vec::new();
    same_shape(&expected, actual, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{what} differs from the reference example: {problems:#?}\nactual: {actual:#}"
    );
}

async fn sim() -> Simulator {
    start(Config { users: 300, didomi_requests_per_15s: 100_000, ..Config::default() })
        .await
        .expect("starts")
}

/// The reference's event example, with its made-up ids replaced by the seeded configuration's.
fn event_body(org: &str, ouid: &str) -> Value {
    let text = EVENT
        .replace("newsletter-Ab12Cd", "newsletter-7Kq2Xa")
        .replace("topics-Xy34Zw", "topics-T6n3Yu")
        .replace("sports-1a2b,travel-3c4d", "product_news-1a2B,events-3c4D")
        .replace("\"acme\"", &format!("\"{org}\""))
        .replace("jane@example.com", ouid);
    serde_json::from_str(&text).expect("adapted fixture is JSON")
}

#[test]
fn the_comparison_itself_catches_differences() {
    let expected = json!({ "a": 1, "b": { "c": "x" }, "d": [ { "e": true } ] });
    let mut p = Vec::new();
    same_shape(
        &expected,
        &json!({ "a": 1, "b": { "c": "y" }, "d": [ { "e": false } ], "extra": 0 }),
        "$",
        &mut p,
    );
    assert!(p.is_empty(), "same shape with other values and an extra field passes: {p:?}");
    let mut p = Vec::new();
    same_shape(&expected, &json!({ "a": "1", "b": {}, "d": [ { "e": 1 } ] }), "$", &mut p);
    assert_eq!(
        p.len(),
        3,
        "a type change, a missing field and a bad element are all reported: {p:?}"
    );
}

#[tokio::test]
async fn answers_have_the_reference_shapes() {
    let sim = sim().await;
    let c = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let base = &sim.info.didomi;
    let org = &sim.info.didomi_organization_id;

    // Sessions: the documented request works once filled in, and the answer has access_token.
    let key = &sim.info.didomi_api_key;
    let req =
        SESSION_REQ.replace("<private API key>", &key.key).replace("<API secret>", &key.secret);
    let res = c
        .post(format!("{base}/v1/sessions"))
        .header("content-type", "application/json")
        .body(req)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the documented session request is accepted with 200");
    let session: Value = res.json().await.unwrap();
    assert_same_shape(SESSION_RES, &session, "POST /v1/sessions");
    let tok = session["access_token"].as_str().unwrap().to_string();

    // Error format.
    let res = c.post(format!("{base}/v1/sessions")).body(SESSION_REQ).send().await.unwrap();
    assert_eq!(res.status(), 400, "the placeholder credentials are refused");
    let err: Value = res.json().await.unwrap();
    assert_same_shape(ERROR, &err, "a 400 error");
    assert_eq!(err["message"], "Invalid authentication information", "the documented message");

    let get = |path: String| {
        let c = c.clone();
        let tok = tok.clone();
        async move { c.get(path).bearer_auth(tok).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_same_shape(
        PREFERENCES,
        &get(format!("{base}/v1/preferences?organization_id={org}")).await,
        "GET /v1/preferences",
    );
    assert_same_shape(
        TREES,
        &get(format!("{base}/v1/config-trees?organization_id={org}")).await,
        "GET /v1/config-trees",
    );
    assert_same_shape(
        USERS_PAGE,
        &get(format!("{base}/v1/consents/users?organization_id={org}")).await,
        "GET /v1/consents/users",
    );

    // The documented event body (ids adapted) is accepted, and the stored event keeps its shape.
    let ouid = dhs_simulator::people::people(42, 300)
        .find(|p| p.on_didomi() && p.didomi_email_valid)
        .unwrap()
        .didomi_email;
    let body = event_body(org, &ouid);
    let res = c
        .post(format!("{base}/v1/consents/events?organization_id={org}"))
        .bearer_auth(&tok)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the documented event body is accepted with 200");
    let stored: Value = res.json().await.unwrap();
    assert_same_shape(EVENT, &stored, "the stored event");

    // A user with every documented field (country set by an event) has the user example's shape.
    let res = c
        .post(format!("{base}/v1/consents/events?organization_id={org}"))
        .bearer_auth(&tok)
        .json(&json!({ "user": { "organization_user_id": ouid, "country": "FR", "last_seen_country": "FR",
            "metadata": { "source": "newsletter-form" } },
            "consents": { "purposes": [ { "id": "marketing_emails-M3p9Lw", "enabled": false } ] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "second event accepted");
    let user = get(format!(
        "{base}/v1/consents/users/{ouid}?$by_organization_user_id&organization_id={org}"
    ))
    .await;
    assert_same_shape(USER, &user, "GET /v1/consents/users/{id}");
    sim.shutdown().await;
}
