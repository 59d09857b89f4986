//! The simulated Didomi through HTTP, as the app's client will use it: sessions and tokens,
//! bearer and organization checks, PMP configuration and its paging, consent users with cursor
//! paging and lookups, consent events (validation, idempotency, batches, merging) and the
//! rate limit.

use std::collections::HashSet;
use std::time::Duration;

use dhs_simulator::didomi::{ConsentValue, PurposeConsent, User};
use dhs_simulator::{start, Config, Simulator};
use serde_json::{json, Value};

async fn sim_with(config: Config) -> Simulator {
    start(config).await.expect("simulator starts")
}

async fn sim() -> Simulator {
    sim_with(Config { users: 300, didomi_requests_per_15s: 100_000, ..Config::default() }).await
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

async fn token(sim: &Simulator, c: &reqwest::Client) -> String {
    let key = &sim.info.didomi_api_key;
    let res = c
        .post(format!("{}/v1/sessions", sim.info.didomi))
        .json(&json!({ "type": "api-key", "key": key.key, "secret": key.secret }))
        .send()
        .await
        .expect("sessions answers");
    assert_eq!(res.status(), 200, "good credentials create a session (200, as documented)");
    let body: Value = res.json().await.expect("json");
    body["access_token"].as_str().expect("access_token is a string").to_string()
}

/// GET `{didomi}{path}` with `organization_id` added and the bearer token.
async fn get(sim: &Simulator, c: &reqwest::Client, tok: &str, path: &str) -> (u16, Value) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{path}{sep}organization_id={}",
        sim.info.didomi, sim.info.didomi_organization_id
    );
    let res = c.get(url).bearer_auth(tok).send().await.expect("answers");
    let status = res.status().as_u16();
    (status, res.json().await.expect("every answer is JSON"))
}

async fn post_events(
    sim: &Simulator,
    c: &reqwest::Client,
    tok: &str,
    body: &Value,
) -> (u16, Value) {
    let url = format!(
        "{}/v1/consents/events?organization_id={}&$disable_integrations=true",
        sim.info.didomi, sim.info.didomi_organization_id
    );
    let res = c.post(url).bearer_auth(tok).json(body).send().await.expect("answers");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json"))
}

fn assert_didomi_error(body: &Value, code: u16, name: &str) {
    assert_eq!(body["code"], code, "error code in body: {body}");
    assert_eq!(body["name"], name, "error name: {body}");
    assert!(body["message"].is_string(), "error message: {body}");
    assert!(body["errors"].is_object(), "errors object: {body}");
}

const NEWSLETTER: &str = "newsletter-7Kq2Xa";
const TOPICS: &str = "topics-T6n3Yu";
const FREQUENCY: &str = "email_frequency-F2w8Qe";

#[tokio::test]
async fn sessions_accept_the_key_and_refuse_anything_else() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    assert_eq!(tok.split('.').count(), 3, "the token is JWT-shaped");
    let key = &sim.info.didomi_api_key;
    for (label, body) in [
        ("wrong secret", json!({ "type": "api-key", "key": key.key, "secret": "nope" })),
        ("wrong key", json!({ "type": "api-key", "key": "other", "secret": key.secret })),
        ("wrong type", json!({ "type": "password", "key": key.key, "secret": key.secret })),
        ("missing secret", json!({ "type": "api-key", "key": key.key })),
    ] {
        let res =
            c.post(format!("{}/v1/sessions", sim.info.didomi)).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 400, "{label}: bad credentials are a 400");
        let body: Value = res.json().await.unwrap();
        assert_didomi_error(&body, 400, "BadRequest");
        assert!(!body.to_string().contains(&key.secret), "{label}: the secret is never echoed");
    }
    assert_eq!(sim.didomi.stats().sessions_rejected, 4, "rejections counted");
    sim.shutdown().await;
}

#[tokio::test]
async fn bearer_token_is_required_and_checked() {
    let sim = sim().await;
    let c = client();
    let url = format!(
        "{}/v1/consents/users?organization_id={}",
        sim.info.didomi, sim.info.didomi_organization_id
    );
    let res = c.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401, "no token → 401");
    assert_didomi_error(&res.json().await.unwrap(), 401, "NotAuthenticated");
    let res = c.get(&url).bearer_auth("not.a.token").send().await.unwrap();
    assert_eq!(res.status(), 401, "garbage token → 401");
    let other = sim_with(Config { seed: 43, users: 10, ..Config::default() }).await;
    let foreign = token(&other, &c).await;
    let res = c.get(&url).bearer_auth(&foreign).send().await.unwrap();
    assert_eq!(res.status(), 401, "a token signed by another seed's simulator → 401");
    for path in ["/v1/metadata/purposes", "/v1/preferences", "/v1/config-trees"] {
        let res = c
            .get(format!(
                "{}{path}?organization_id={}",
                sim.info.didomi, sim.info.didomi_organization_id
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path} needs a token too");
    }
    other.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_with_the_time_scale_and_survive_a_restart() {
    // 3600× faster: the one-hour token lives one second.
    let cfg = Config { seed: 77, users: 20, time_scale: 3600.0, ..Config::default() };
    let sim = sim_with(cfg.clone()).await;
    let c = client();
    let tok = token(&sim, &c).await;
    let (s, _) = get(&sim, &c, &tok, "/v1/config-trees").await;
    assert_eq!(s, 200, "a fresh token works");
    sim.shutdown().await;

    let again = sim_with(cfg).await;
    let (s, _) = get(&again, &c, &tok, "/v1/config-trees").await;
    assert_eq!(s, 200, "a restarted simulator with the same seed accepts the old token");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (s, body) = get(&again, &c, &tok, "/v1/config-trees").await;
    assert_eq!(s, 401, "after the scaled hour the token is expired");
    assert_didomi_error(&body, 401, "NotAuthenticated");
    assert_eq!(body["message"], "jwt expired", "the expiry is named: {body}");
    again.shutdown().await;
}

#[tokio::test]
async fn another_organization_is_forbidden_and_a_missing_one_is_a_bad_request() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let res = c
        .get(format!("{}/v1/consents/users?organization_id=someone-else", sim.info.didomi))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "another organization → 403 (not 401: the credentials are fine)");
    assert_didomi_error(&res.json().await.unwrap(), 403, "Forbidden");
    let res = c
        .get(format!("{}/v1/preferences", sim.info.didomi))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "organization_id is required");
    sim.shutdown().await;
}

#[tokio::test]
async fn configuration_endpoints_and_paging() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let (s, page) = get(&sim, &c, &tok, "/v1/metadata/purposes").await;
    assert_eq!(s, 200, "purposes listed");
    assert_eq!(page["total"], 4, "four purposes: {page}");
    assert_eq!(page["skip"], 0, "skip echoed");
    assert!(
        page["data"][0]["description"].is_string(),
        "without $translations the name is a string"
    );
    // Didomi's description does not make `reference` or the namespaces nullable: a custom
    // purpose leaves out what it does not have.
    for p in page["data"].as_array().expect("data") {
        assert!(p.get("reference").is_none(), "no reference: {p}");
        let ns = p["namespaces"].as_object().expect("namespaces object");
        assert!(ns.values().all(|v| !v.is_null()), "no null namespace: {p}");
        assert_eq!(ns.get("custom"), Some(&p["id"]), "the custom namespace: {p}");
    }
    let (_, page) =
        get(&sim, &c, &tok, "/v1/metadata/purposes?$limit=2&$skip=1&$translations=true").await;
    assert_eq!(page["limit"], 2, "limit echoed");
    assert_eq!(page["data"].as_array().unwrap().len(), 2, "two per page");
    assert_eq!(page["total"], 4, "total is the whole list");
    assert_eq!(page["data"][0]["id"], "marketing_emails-M3p9Lw", "skip 1 starts at the second");
    assert_eq!(page["data"][0]["description"]["fr"], "E-mails marketing", "labels in French too");
    let (_, page) = get(&sim, &c, &tok, "/v1/metadata/purposes?$limit=500").await;
    assert_eq!(page["limit"], 100, "the limit is capped at 100");
    let (s, one) = get(&sim, &c, &tok, "/v1/metadata/purposes/analytics-A8d4Rt").await;
    assert_eq!((s, one["id"].as_str()), (200, Some("analytics-A8d4Rt")), "one purpose by id");
    let (s, body) = get(&sim, &c, &tok, "/v1/metadata/purposes/nope").await;
    assert_eq!(s, 404, "unknown purpose");
    assert_didomi_error(&body, 404, "NotFound");

    let (_, prefs) = get(&sim, &c, &tok, "/v1/preferences").await;
    let data = prefs["data"].as_array().unwrap();
    assert!(data.len() >= 3, "at least three preferences");
    let types: HashSet<&str> = data.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert!(types.contains("single") && types.contains("multi"), "single and multi preferences");
    let topics = data.iter().find(|p| p["id"] == TOPICS).expect("Topics exists");
    assert_eq!(topics["values"].as_array().unwrap().len(), 4, "four topics");
    assert_eq!(topics["values"][1]["order"], 1, "values carry their order");
    assert!(
        topics["name"]["en"].is_string() && topics["name"]["fr"].is_string(),
        "en and fr labels"
    );
    let (_, page) = get(&sim, &c, &tok, "/v1/preferences?$limit=1&$skip=3").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "last page of one");
    assert_eq!(page["total"], data.len(), "total counts all preferences");

    let (s, trees) = get(&sim, &c, &tok, "/v1/config-trees").await;
    assert_eq!(s, 200, "tree served");
    let trees = trees.as_array().expect("an array of trees");
    assert_eq!(trees.len(), 1, "one tree per organization");
    let sp = &trees[0]["selected_purposes"];
    assert_eq!(sp.as_array().unwrap().len(), 4, "every purpose selected");
    let newsletter_pref = &sp[0]["selected_preferences"][0];
    assert_eq!(newsletter_pref["preference"]["id"], TOPICS, "Topics under Newsletter");
    let nested = &newsletter_pref["preference"]["values"][1]["selected_preferences"][0];
    assert_eq!(
        nested["preference"]["id"], "event_regions-R4g7Jk",
        "a preference nested under a value"
    );
    assert_eq!(
        nested["parent_preference_value_id"], "events-3c4D",
        "nested under the Events value"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn users_cursor_paging_visits_everyone_once() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let mut cursor: Option<String> = None;
    let mut ids = Vec::new();
    let mut ouids = Vec::new();
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/v1/consents/users?$cursor={cur}"),
            None => "/v1/consents/users".to_string(),
        };
        let (s, page) = get(&sim, &c, &tok, &path).await;
        assert_eq!(s, 200, "page {pages} served");
        assert_eq!(page["limit"], 100, "limit is 100");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 100, "at most 100 per page");
        for u in data {
            let u: User =
                serde_json::from_value(u.clone()).expect("users have the documented shape");
            ids.push(u.id);
            ouids.push(u.organization_user_id.unwrap());
        }
        pages += 1;
        match page["cursor"].as_str() {
            Some(cur) => cursor = Some(cur.to_string()),
            None => {
                assert!(page["cursor"].is_null(), "the last page has cursor null");
                break;
            }
        }
    }
    let expected = dhs_simulator::people::people(42, 300)
        .filter(|p| p.on_didomi())
        .map(|p| 1 + usize::from(p.didomi_duplicate.is_some()))
        .sum::<usize>();
    assert_eq!(ids.len(), expected, "every seeded user (duplicates included) is paged");
    assert_eq!(ids.len() as u64, sim.didomi.user_count(), "user_count agrees");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "no user twice");
    assert_eq!(pages, expected.div_ceil(100), "full pages until the last");
    assert!(ouids.iter().any(|o| !o.contains('@')), "invalid OUIDs are served as stored");
    let (s, body) = get(&sim, &c, &tok, "/v1/consents/users?$cursor=garbage").await;
    assert_eq!(s, 400, "a bad cursor is a 400");
    assert_didomi_error(&body, 400, "BadRequest");
    sim.shutdown().await;
}

#[tokio::test]
async fn users_filter_and_lookups() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let p = dhs_simulator::people::people(42, 300)
        .find(|p| p.didomi_duplicate.is_some())
        .expect("a duplicate");
    let (s, page) =
        get(&sim, &c, &tok, &format!("/v1/consents/users?organization_user_id={}", p.didomi_email))
            .await;
    assert_eq!(s, 200, "filter served");
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "exactly one user for that exact OUID");
    assert_eq!(
        page["data"][0]["organization_user_id"],
        p.didomi_email.as_str(),
        "the matching user"
    );
    assert!(page["cursor"].is_null(), "one page");
    let dup = p.didomi_duplicate.clone().unwrap();
    let (_, page) =
        get(&sim, &c, &tok, &format!("/v1/consents/users?organization_user_id={dup}")).await;
    assert_eq!(
        page["data"][0]["organization_user_id"],
        dup.as_str(),
        "the other-case duplicate is its own user"
    );
    let (_, page) =
        get(&sim, &c, &tok, "/v1/consents/users?organization_user_id=nobody@example.com").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 0, "no match, empty data");

    let id = sim.didomi.user_by_organization_user_id(&p.didomi_email).unwrap().id;
    let (s, user) = get(&sim, &c, &tok, &format!("/v1/consents/users/{id}")).await;
    assert_eq!((s, user["id"].as_str()), (200, Some(id.as_str())), "by id");
    let (s, user) = get(
        &sim,
        &c,
        &tok,
        &format!("/v1/consents/users/{}?$by_organization_user_id", p.didomi_email),
    )
    .await;
    assert_eq!(
        (s, user["id"].as_str()),
        (200, Some(id.as_str())),
        "by OUID with $by_organization_user_id"
    );
    let (s, body) =
        get(&sim, &c, &tok, "/v1/consents/users/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(s, 404, "unknown id");
    assert_didomi_error(&body, 404, "NotFound");
    let with_consents = dhs_simulator::people::people(42, 300)
        .filter(|p| p.on_didomi() && p.has_consents)
        .filter_map(|p| sim.didomi.user_by_organization_user_id(&p.didomi_email))
        .filter(|u| !u.consents.purposes.is_empty())
        .count();
    assert!(with_consents > 50, "seeded users have consents: {with_consents}");
    sim.shutdown().await;
}

#[tokio::test]
async fn events_are_validated_against_the_configuration() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let user = json!({ "organization_user_id": "new.person@example.com" });
    let cases = [
        (
            "unknown purpose",
            json!({ "user": user, "consents": { "purposes": [ { "id": "nope", "enabled": true } ] } }),
        ),
        (
            "unknown preference",
            json!({ "user": user, "consents": { "purposes": [ { "id": NEWSLETTER, "values": { "nope": { "value": "x" } } } ] } }),
        ),
        (
            "unknown value",
            json!({ "user": user, "consents": { "purposes": [ { "id": NEWSLETTER, "values": { TOPICS: { "value": "offers-6g7H,nope" } } } ] } }),
        ),
        (
            "two values on a single preference",
            json!({ "user": user, "consents": { "purposes": [ { "id": NEWSLETTER, "values": { FREQUENCY: { "value": "daily-9Hc1,weekly-5e6F" } } } ] } }),
        ),
        (
            "preference not under that purpose",
            json!({ "user": user, "consents": { "purposes": [ { "id": "analytics-A8d4Rt", "values": { TOPICS: { "value": "offers-6g7H" } } } ] } }),
        ),
        (
            "enabled not a boolean",
            json!({ "user": user, "consents": { "purposes": [ { "id": NEWSLETTER, "enabled": "yes" } ] } }),
        ),
        ("no consents", json!({ "user": user })),
        (
            "bad created_at",
            json!({ "user": user, "created_at": "yesterday", "consents": { "purposes": [] } }),
        ),
        (
            "other organization in body",
            json!({ "organization_id": "other", "user": user, "consents": { "purposes": [] } }),
        ),
    ];
    for (label, body) in cases {
        let (s, res) = post_events(&sim, &c, &tok, &body).await;
        assert_eq!(s, 400, "{label}: rejected with 400 ({res})");
        assert_didomi_error(&res, 400, "BadRequest");
        assert!(
            !res["errors"].as_object().unwrap().is_empty(),
            "{label}: errors name the field: {res}"
        );
    }
    assert!(
        sim.didomi.user_by_organization_user_id("new.person@example.com").is_none(),
        "nothing was created"
    );
    assert_eq!(sim.didomi.events_received(), 0, "no event accepted");
    sim.shutdown().await;
}

#[tokio::test]
async fn events_merge_into_users_and_ids_are_idempotent() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let p =
        dhs_simulator::people::people(42, 300).find(|p| p.on_didomi() && !p.has_consents).unwrap();
    let before = sim.didomi.user_by_organization_user_id(&p.didomi_email).unwrap();
    let event = json!({
        "id": "hs-sync-1",
        "organization_id": sim.info.didomi_organization_id,
        "created_at": "2024-05-18T16:02:09Z",
        "regulation": "gdpr",
        "user": { "organization_user_id": p.didomi_email, "metadata": { "source": "hubspot" } },
        "consents": { "purposes": [ { "id": NEWSLETTER, "enabled": true,
            "values": { TOPICS: { "value": "product_news-1a2B,events-3c4D" }, FREQUENCY: { "value": "weekly-5e6F" } } } ] },
        "delegate": { "id": "hubspot-sync", "name": "HubSpot sync desktop app" }
    });
    let (s, stored) = post_events(&sim, &c, &tok, &event).await;
    assert_eq!(s, 200, "event accepted (200, as documented): {stored}");
    assert_eq!(stored["id"], "hs-sync-1", "the supplied id is kept");
    assert_eq!(stored["created_at"], "2024-05-18T16:02:09.000Z", "a past created_at is kept");
    assert_eq!(stored["user"]["id"], before.id.as_str(), "merged into the existing user");
    assert_eq!(stored["delegate"]["id"], "hubspot-sync", "delegate kept");
    let after = sim.didomi.user_by_organization_user_id(&p.didomi_email).unwrap();
    assert_eq!(after.version, before.version + 1, "version goes up");
    assert_eq!(after.metadata["source"], "hubspot", "user metadata merged");
    let n = after.consents.purposes.iter().find(|x| x.id == NEWSLETTER).expect("newsletter set");
    assert_eq!(n.enabled, Some(true), "enabled merged");
    assert_eq!(
        n.values[TOPICS].value, "product_news-1a2B,events-3c4D",
        "comma-separated value ids"
    );

    let (s, res) = post_events(&sim, &c, &tok, &event).await;
    assert_eq!(s, 409, "the same id again is refused: {res}");
    assert_didomi_error(&res, 409, "Conflict");
    assert_eq!(
        sim.didomi.user_by_organization_user_id(&p.didomi_email).unwrap().version,
        after.version,
        "not applied twice"
    );

    // A partial event: only the frequency changes, Topics is cleared with "", enabled untouched.
    let partial = json!({ "user": { "organization_user_id": p.didomi_email },
        "consents": { "purposes": [ { "id": NEWSLETTER, "values": { FREQUENCY: { "value": "daily-9Hc1" }, TOPICS: { "value": "" } } } ] } });
    assert_eq!(post_events(&sim, &c, &tok, &partial).await.0, 200, "partial event accepted");
    let u = sim.didomi.user_by_organization_user_id(&p.didomi_email).unwrap();
    let n = u.consents.purposes.iter().find(|x| x.id == NEWSLETTER).unwrap();
    assert_eq!(n.enabled, Some(true), "enabled kept when absent");
    assert_eq!(n.values[FREQUENCY].value, "daily-9Hc1", "the frequency replaced");
    assert!(!n.values.contains_key(TOPICS), "an empty value clears the preference");

    let (s, stored) = post_events(
        &sim,
        &c,
        &tok,
        &json!({ "user": { "organization_user_id": "brand.new@example.com" },
        "consents": { "purposes": [ { "id": "analytics-A8d4Rt", "enabled": false } ] } }),
    )
    .await;
    assert_eq!(s, 200, "an unknown OUID is accepted");
    let created = sim
        .didomi
        .user_by_organization_user_id("brand.new@example.com")
        .expect("the user was created");
    assert_eq!(stored["user"]["id"], created.id.as_str(), "the event names the new user");
    assert_eq!(sim.didomi.events_received(), 3, "three events accepted");
    let (_, page) =
        get(&sim, &c, &tok, "/v1/consents/users?organization_user_id=brand.new@example.com").await;
    assert_eq!(
        page["data"][0]["consents"]["purposes"][0]["enabled"], false,
        "the created user is served"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn batches_take_at_most_100_events_and_are_atomic() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let ev = |i: usize| {
        json!({ "id": format!("batch-{i}"), "user": { "organization_user_id": format!("batch{i}@example.com") },
        "consents": { "purposes": [ { "id": "analytics-A8d4Rt", "enabled": i.is_multiple_of(2) } ] } })
    };
    let too_many: Vec<Value> = (0..101).map(ev).collect();
    let (s, res) = post_events(&sim, &c, &tok, &Value::Array(too_many)).await;
    assert_eq!(s, 400, "101 events are refused");
    assert_didomi_error(&res, 400, "BadRequest");
    let (s, res) = post_events(&sim, &c, &tok, &json!([])).await;
    assert_eq!(s, 400, "an empty batch is refused: {res}");
    let mut with_bad: Vec<Value> = (0..5).map(ev).collect();
    with_bad.push(json!({ "user": { "organization_user_id": "x@example.com" }, "consents": { "purposes": [ { "id": "nope" } ] } }));
    let (s, res) = post_events(&sim, &c, &tok, &Value::Array(with_bad)).await;
    assert_eq!(s, 400, "one bad event fails the batch");
    assert!(
        res["errors"].as_object().unwrap().keys().any(|k| k.starts_with("5.")),
        "the bad index is named: {res}"
    );
    assert!(
        sim.didomi.user_by_organization_user_id("batch0@example.com").is_none(),
        "nothing applied"
    );
    let hundred: Vec<Value> = (0..100).map(ev).collect();
    let (s, res) = post_events(&sim, &c, &tok, &Value::Array(hundred)).await;
    assert_eq!(s, 200, "100 events are accepted");
    assert_eq!(res.as_array().unwrap().len(), 100, "the batch answer lists each event");
    assert_eq!(sim.didomi.events_received(), 100, "all counted");
    let (s, res) = post_events(&sim, &c, &tok, &json!([ev(100), ev(3)])).await;
    assert_eq!(s, 409, "a batch repeating a known id is refused: {res}");
    assert!(
        sim.didomi.user_by_organization_user_id("batch100@example.com").is_none(),
        "atomic: nothing applied"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn non_consent_routes_are_rate_limited_in_didomi_shape() {
    // 5 requests per 15 s, 15× faster: a 1 s window.
    let sim = sim_with(Config {
        users: 20,
        didomi_requests_per_15s: 5,
        time_scale: 15.0,
        ..Config::default()
    })
    .await;
    let c = client();
    let tok = sim.didomi.mint_token();
    for i in 0..5 {
        let url = format!(
            "{}/v1/preferences?organization_id={}",
            sim.info.didomi, sim.info.didomi_organization_id
        );
        let res = c.get(url).bearer_auth(&tok).send().await.unwrap();
        assert_eq!(res.status(), 200, "request {i} within the limit");
        assert_eq!(res.headers()["ratelimit-policy"], "5;w=15", "policy header");
        let rl = res.headers()["ratelimit"].to_str().unwrap().to_string();
        assert!(rl.contains(&format!("remaining={}", 4 - i)), "remaining counts down: {rl}");
    }
    let url = format!(
        "{}/v1/preferences?organization_id={}",
        sim.info.didomi, sim.info.didomi_organization_id
    );
    let res = c.get(&url).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(res.status(), 429, "the sixth is limited");
    assert!(res.headers().contains_key("retry-after"), "Retry-After present");
    assert_didomi_error(&res.json().await.unwrap(), 429, "TooManyRequests");
    let (s, _) = get(&sim, &c, &tok, "/v1/consents/users").await;
    assert_eq!(s, 200, "consent routes are not limited");
    assert_eq!(sim.didomi.stats().rate_limited, 1, "counted");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        c.get(&url).bearer_auth(&tok).send().await.unwrap().status(),
        200,
        "the next window allows again"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn changes_made_in_didomi_ui_and_stats_route() {
    let sim = sim().await;
    let c = client();
    let p = dhs_simulator::people::people(42, 300).find(|p| p.on_didomi()).unwrap();
    let before = sim.didomi.user_by_organization_user_id(&p.didomi_email).unwrap();
    let change = PurposeConsent {
        id: "partners_sms-P5s1Vb".into(),
        enabled: Some(true),
        values: [("sms_language-L1z5Np".to_string(), ConsentValue { value: "french-0Fr5".into() })]
            .into(),
    };
    let u = sim.didomi.set_consent_as_user(&p.didomi_email, change).expect("valid UI change");
    assert_eq!(u.version, before.version + 1, "a UI change is a new version");
    let sms = u.consents.purposes.iter().find(|x| x.id == "partners_sms-P5s1Vb").unwrap();
    assert_eq!(sms.values["sms_language-L1z5Np"].value, "french-0Fr5", "value set");
    assert_eq!(sim.didomi.events_received(), 0, "UI changes are not API events");
    let bad = PurposeConsent { id: "nope".into(), enabled: Some(true), values: Default::default() };
    assert!(
        sim.didomi.set_consent_as_user(&p.didomi_email, bad).is_err(),
        "invalid UI change refused"
    );
    assert!(
        sim.didomi
            .set_consent_as_user(
                "ghost@example.com",
                PurposeConsent { id: NEWSLETTER.into(), enabled: None, values: Default::default() }
            )
            .is_err(),
        "unknown user refused"
    );
    let res = c
        .post(format!("{}/_sim/didomi/users/{}/consents", sim.info.didomi, p.didomi_email))
        .json(&json!({ "id": NEWSLETTER, "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the admin route makes a UI change");
    let via_admin: Value = c
        .get(format!("{}/_sim/didomi/users/{}", sim.info.didomi, p.didomi_email))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = via_admin["consents"]["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == NEWSLETTER)
        .cloned();
    assert_eq!(
        n.map(|x| x["enabled"].clone()),
        Some(json!(false)),
        "the change is visible: {via_admin}"
    );
    let res = c
        .post(format!("{}/_sim/didomi/users/{}/consents", sim.info.didomi, p.didomi_email))
        .json(&json!({ "id": "nope", "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "an invalid UI change is refused over HTTP too");
    let stats: Value = c
        .get(format!("{}/_sim/didomi/stats", sim.info.didomi))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["users"], sim.didomi.user_count(), "stats route reports users: {stats}");
    assert_eq!(stats["modified_users"], 1, "one user changed: {stats}");
    sim.shutdown().await;
}

#[tokio::test]
async fn disable_integrations_is_a_boolean_query_flag_recorded_per_event() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim, &c).await;
    let post = |query: &'static str, body: Value| {
        let url = format!(
            "{}/v1/consents/events?organization_id={}{query}",
            sim.info.didomi, sim.info.didomi_organization_id
        );
        let req = c.post(url).bearer_auth(&tok).json(&body);
        async move {
            let res = req.send().await.expect("answers");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("json"))
        }
    };
    let ev = |id: &str, ouid: &str| {
        json!({ "id": id, "user": { "organization_user_id": ouid },
        "consents": { "purposes": [ { "id": "analytics-A8d4Rt", "enabled": true } ] } })
    };
    let (a, b) = ("flag.a@example.com", "flag.b@example.com");
    // A batch with the flag: every event of the request carries it.
    let (s, res) = post("&$disable_integrations=true", json!([ev("f-1", a), ev("f-2", b)])).await;
    assert_eq!(s, 200, "accepted: {res}");
    assert!(
        res[0].get("disable_integrations").is_none()
            && res[0].get("$disable_integrations").is_none(),
        "the API answer is the event, with no field the reference does not describe: {res}"
    );
    let (s, _) = post("&$disable_integrations=false", ev("f-3", a)).await;
    assert_eq!(s, 200, "false is a boolean too");
    let (s, _) = post("", ev("f-4", a)).await;
    assert_eq!(s, 200, "absent means forwarded");
    for (q, what) in [
        ("&$disable_integrations=yes", "a word"),
        ("&$disable_integrations=1", "a number"),
        ("&$disable_integrations", "a bare name"),
        ("&$disable_integrations=true&$disable_integrations=maybe", "a repeated bad value"),
        ("&$generate_tcfcs=on", "the sibling flag"),
    ] {
        let (s, res) = post(q, ev("f-bad", a)).await;
        assert_eq!(s, 400, "{what} is refused: {res}");
        assert_didomi_error(&res, 400, "BadRequest");
        assert!(res["message"].as_str().unwrap().contains("true or false"), "says why: {res}");
    }
    let mut in_body = ev("f-5", a);
    in_body["$disable_integrations"] = json!(true);
    let (s, res) = post("", in_body).await;
    assert_eq!(s, 400, "the flag in the event body is refused: {res}");
    assert!(
        res["errors"]["$disable_integrations"].as_str().unwrap().contains("query parameter"),
        "points to the query parameter: {res}"
    );
    assert_eq!(sim.didomi.events_received(), 4, "only the valid writes were stored");
    assert_eq!(sim.didomi.stats().events_integrations_disabled, 2, "two asked not to forward");

    // A console change is recorded too, never with the flag.
    sim.didomi
        .set_consent_as_user(
            a,
            PurposeConsent {
                id: NEWSLETTER.into(),
                enabled: Some(true),
                values: Default::default(),
            },
        )
        .expect("UI change");
    let admin = |q: String| {
        let c = c.clone();
        let url = format!("{}/_sim/didomi/events{q}", sim.info.didomi);
        async move { c.get(url).send().await.expect("admin").json::<Value>().await.expect("json") }
    };
    let of_a = admin(format!("?organization_user_id={a}")).await;
    let rows: Vec<(String, bool, String)> = of_a["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| {
            (
                r["event"]["id"].as_str().unwrap().to_string(),
                r["disable_integrations"].as_bool().unwrap(),
                r["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(of_a["total"], 4, "only that user's events: {of_a}");
    assert_eq!(
        rows[..3],
        [
            ("f-1".to_string(), true, "api".to_string()),
            ("f-3".to_string(), false, "api".to_string()),
            ("f-4".to_string(), false, "api".to_string()),
        ],
        "oldest first, with the flag each request carried: {of_a}"
    );
    assert_eq!((rows[3].1, rows[3].2.as_str()), (false, "didomi-console"), "the UI change");
    assert_eq!(of_a["data"][0]["event"]["user"]["organization_user_id"], a, "the stored event");
    let of_b = admin(format!("?organization_user_id={b}")).await;
    assert_eq!(
        (of_b["total"].as_u64(), of_b["data"][0]["disable_integrations"].as_bool()),
        (Some(1), Some(true)),
        "the batch's second event carries the flag too: {of_b}"
    );
    let all = admin(String::new()).await;
    assert_eq!(all["total"], 5, "without a filter: every recent event: {all}");
    let none = admin("?organization_user_id=FLAG.A@example.com".into()).await;
    assert_eq!(none["total"], 0, "the filter is exact: {none}");
    let recorded = sim.didomi.recorded_events(Some(b));
    assert_eq!(recorded.len(), 1, "the same through the library");
    assert!(recorded[0].disable_integrations, "flag kept");
    sim.shutdown().await;
}
