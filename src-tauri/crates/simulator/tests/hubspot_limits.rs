//! Authentication errors, scopes, rate limits (rolling window, search bucket, headers, 429
//! body) and the `/_sim/hubspot` admin routes of the simulated HubSpot, as a real client sees them.

mod hubspot_common;

use std::time::{Duration, Instant};

use hubspot_common::*;
use serde_json::{json, Value};

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

#[tokio::test]
async fn missing_invalid_and_expired_tokens_get_401_bodies() {
    // 1800 s / 3600 = 0.5 s access tokens.
    let sim = sim_with(|c| c.time_scale = 3600.0).await;
    let c = client();
    let url = format!("{}/crm/v3/objects/contacts", sim.info.hubspot);
    let res = c.get(&url).send().await.expect("get");
    assert_eq!(res.status(), 401, "no token");
    let a: Value = res.json().await.expect("json");
    assert_shape("error.json", &a, &["errors"]);
    assert_eq!(a["category"], "INVALID_AUTHENTICATION", "category for a missing token");
    let b: Value = c
        .get(&url)
        .bearer_auth("CSIM-at.garbage.sig")
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(b["category"], "INVALID_AUTHENTICATION", "forged token");
    assert_ne!(a["correlationId"], b["correlationId"], "a fresh correlationId per error");
    assert!(
        uuid::Uuid::parse_str(a["correlationId"].as_str().expect("id")).is_ok(),
        "correlationId is a uuid"
    );
    let pair = sim.hubspot.issue_tokens(&["crm.objects.contacts.read"]);
    assert_eq!(pair.expires_in, 1, "expires_in reports the scaled lifetime");
    let res = c.get(&url).bearer_auth(&pair.access_token).send().await.expect("get");
    assert_eq!(res.status(), 200, "fresh token works");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let res = c.get(&url).bearer_auth(&pair.access_token).send().await.expect("get");
    assert_eq!(res.status(), 401, "expired");
    let e: Value = res.json().await.expect("json");
    assert_eq!(e["category"], "EXPIRED_AUTHENTICATION", "expired category: {e}");
    assert!(e["message"].as_str().expect("m").contains("expired"), "message says expired");
    assert_eq!(sim.hubspot.stats().unauthorized, 3, "401s counted");
}

#[tokio::test]
async fn missing_scopes_get_403() {
    let sim = sim().await;
    let c = client();
    let read_only = sim.hubspot.issue_tokens(&["crm.objects.contacts.read"]).access_token;
    let res = c
        .post(format!("{}/crm/v3/objects/contacts", sim.info.hubspot))
        .bearer_auth(&read_only)
        .json(&json!({"properties": {"email": "x@example.com"}}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403, "write needs the write scope");
    let e: Value = res.json().await.expect("json");
    // `errors[].code` is optional in the spec's Error schema; the example's context is validation-specific.
    assert_shape("error.json", &e, &["code", "propertyName"]);
    assert_eq!(e["category"], "MISSING_SCOPES", "category");
    assert_eq!(
        e["context"]["requiredGranularScopes"][0], "crm.objects.contacts.write",
        "names the scope"
    );
    let res = c
        .post(format!("{}/crm/v3/properties/contacts/groups", sim.info.hubspot))
        .bearer_auth(&read_only)
        .json(&json!({"name": "g", "label": "G"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403, "property writes need crm.schemas.contacts.write");
    let res = c
        .get(format!("{}/crm/v3/properties/contacts/email", sim.info.hubspot))
        .bearer_auth(&read_only)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "reading properties accepts crm.objects.contacts.read");
}

#[tokio::test]
async fn rolling_ten_second_window_with_headers_and_429_body() {
    // 10 s / 10 = a 1 s window; 110 requests per window.
    let sim = sim_with(|c| c.time_scale = 10.0).await;
    let c = client();
    let tok = token(&sim);
    let url = format!("{}/crm/v3/objects/contacts?limit=1", sim.info.hubspot);
    let t0 = Instant::now();
    let mut last_remaining = None;
    for i in 0..55 {
        let res = c.get(&url).bearer_auth(&tok).send().await.expect("get");
        assert_eq!(res.status(), 200, "request {i} of burst A fits");
        assert_eq!(header(&res, "x-hubspot-ratelimit-max").as_deref(), Some("110"), "Max header");
        assert_eq!(
            header(&res, "x-hubspot-ratelimit-interval-milliseconds").as_deref(),
            Some("1000"),
            "scaled interval"
        );
        assert!(
            header(&res, "x-hubspot-ratelimit-daily").is_none(),
            "OAuth calls get no daily pair"
        );
        last_remaining = header(&res, "x-hubspot-ratelimit-remaining");
    }
    assert_eq!(last_remaining.as_deref(), Some("55"), "Remaining counts down");
    let a_end = Instant::now();
    assert!(
        a_end - t0 < Duration::from_millis(450),
        "burst A must be quick for this test: {:?}",
        a_end - t0
    );
    tokio::time::sleep(Duration::from_millis(500).saturating_sub(t0.elapsed())).await;
    for i in 0..55 {
        let res = c.get(&url).bearer_auth(&tok).send().await.expect("get");
        assert_eq!(res.status(), 200, "request {i} of burst B fits");
    }
    let b_start_bound = Instant::now();
    let res = c.get(&url).bearer_auth(&tok).send().await.expect("get");
    assert_eq!(res.status(), 429, "the 111th request in the window is refused");
    assert_eq!(
        header(&res, "x-hubspot-ratelimit-remaining").as_deref(),
        Some("0"),
        "headers on the 429 too"
    );
    let body: Value = res.json().await.expect("json");
    assert_shape("rate_limit_429.json", &body, &[]);
    assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING", "policy");
    assert_eq!(body["errorType"], "RATE_LIMIT", "errorType");
    // After burst A left the window but while burst B is still in it: only A's slots came back.
    let wake = a_end + Duration::from_millis(1050);
    tokio::time::sleep(wake.saturating_duration_since(Instant::now())).await;
    assert!(
        Instant::now() < b_start_bound + Duration::from_millis(900),
        "still inside burst B's window"
    );
    let res = c.get(&url).bearer_auth(&tok).send().await.expect("get");
    assert_eq!(res.status(), 200, "slots of burst A are free again");
    let remaining: u32 =
        header(&res, "x-hubspot-ratelimit-remaining").expect("header").parse().expect("num");
    assert_eq!(remaining, 54, "rolling window: burst B (55) + this one still count");
    let stats = sim.hubspot.stats();
    assert_eq!(stats.rate_limited_ten_secondly, 1, "one 429 counted");
    assert_eq!(
        stats.requests.get("contacts.read").copied(),
        Some(112),
        "every request counted, the refused one too"
    );
}

#[tokio::test]
async fn search_has_its_own_secondly_bucket_and_no_headers() {
    let sim = sim().await;
    let c = client();
    let tok = token(&sim);
    let url = format!("{}/crm/v3/objects/contacts/search", sim.info.hubspot);
    for i in 0..5 {
        let res =
            c.post(&url).bearer_auth(&tok).json(&json!({"limit": 1})).send().await.expect("search");
        assert_eq!(res.status(), 200, "search {i} fits in 5/s");
        assert!(
            header(&res, "x-hubspot-ratelimit-remaining").is_none(),
            "search responses carry no rate-limit headers"
        );
    }
    let res =
        c.post(&url).bearer_auth(&tok).json(&json!({"limit": 1})).send().await.expect("search");
    assert_eq!(res.status(), 429, "the 6th search in a second is refused");
    let body: Value = res.json().await.expect("json");
    assert_shape("rate_limit_429.json", &body, &[]);
    assert_eq!(body["policyName"], "SECONDLY", "search policy");
    assert_eq!(
        body["message"], "You have reached your secondly limit.",
        "the message the SDK retries on"
    );
    let res = c
        .get(format!("{}/crm/v3/objects/contacts?limit=1", sim.info.hubspot))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("get");
    assert_eq!(
        header(&res, "x-hubspot-ratelimit-remaining").as_deref(),
        Some("109"),
        "searches do not use the 10 s bucket"
    );
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let res =
        c.post(&url).bearer_auth(&tok).json(&json!({"limit": 1})).send().await.expect("search");
    assert_eq!(res.status(), 200, "a second later search works again");
    assert_eq!(sim.hubspot.stats().rate_limited_secondly, 1, "counted");
}

#[tokio::test]
async fn private_app_token_gets_daily_headers() {
    let sim = sim().await;
    let c = client();
    let res = c
        .get(format!("{}/crm/v3/objects/contacts?limit=1", sim.info.hubspot))
        .bearer_auth(&sim.info.hubspot_private_app_token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "private-app token works on CRM routes");
    assert_eq!(
        header(&res, "x-hubspot-ratelimit-daily").as_deref(),
        Some("250000"),
        "daily allowance (Free/Starter by default)"
    );
    assert_eq!(
        header(&res, "x-hubspot-ratelimit-daily-remaining").as_deref(),
        Some("249999"),
        "daily remaining"
    );
    assert_eq!(
        header(&res, "x-hubspot-ratelimit-max").as_deref(),
        Some("100"),
        "a Free/Starter private app's burst"
    );
    let pat = &sim.info.hubspot_private_app_token;
    let leaked_shape = pat.starts_with("pat-na") || pat.starts_with("pat-eu");
    assert!(!leaked_shape, "must not look like a real HubSpot private-app token: {pat}");
}

#[tokio::test]
async fn a_professional_private_app_has_its_own_window_and_other_consumers_show_in_the_headers() {
    let sim = sim_with(|c| {
        c.hubspot_private_app_requests_per_10s = 190;
        c.hubspot_private_app_daily = 625_000;
    })
    .await;
    let c = client();
    let base = &sim.info.hubspot;
    let url = format!("{base}/crm/v3/objects/contacts?limit=1");
    let pat = &sim.info.hubspot_private_app_token;
    let res = c.get(&url).bearer_auth(pat).send().await.expect("get");
    assert_eq!(header(&res, "x-hubspot-ratelimit-max").as_deref(), Some("190"), "Professional");
    assert_eq!(header(&res, "x-hubspot-ratelimit-remaining").as_deref(), Some("189"), "one used");
    assert_eq!(header(&res, "x-hubspot-ratelimit-daily").as_deref(), Some("625000"), "daily");
    // Another process with the same private app uses 150 of the window and 150 daily calls.
    let after: Value = c
        .post(format!("{base}/_sim/hubspot/limits/consume"))
        .json(&json!({"app": "private", "requests": 150}))
        .send()
        .await
        .expect("consume")
        .json()
        .await
        .expect("json");
    assert_eq!(after["remaining"], 39, "the other consumer's calls fill the window: {after}");
    assert_eq!(after["taken"], 150, "all fitted");
    let res = c.get(&url).bearer_auth(pat).send().await.expect("get");
    assert_eq!(header(&res, "x-hubspot-ratelimit-remaining").as_deref(), Some("38"), "seen by us");
    assert_eq!(
        header(&res, "x-hubspot-ratelimit-daily-remaining").as_deref(),
        Some("624848"),
        "2 of ours + 150 of theirs"
    );
    // The OAuth app's window is its own (burst limits are per app).
    let res = c.get(&url).bearer_auth(token(&sim)).send().await.expect("get");
    assert_eq!(header(&res, "x-hubspot-ratelimit-max").as_deref(), Some("110"), "OAuth app");
    assert_eq!(header(&res, "x-hubspot-ratelimit-remaining").as_deref(), Some("109"), "own window");
    let res = c
        .post(format!("{base}/_sim/hubspot/limits/consume"))
        .json(&json!({"app": "public", "requests": 1}))
        .send()
        .await
        .expect("consume");
    assert_eq!(res.status(), 400, "unknown app refused");
}

#[tokio::test]
async fn a_used_up_daily_allowance_refuses_private_calls_with_the_daily_policy() {
    let sim = sim_with(|c| c.hubspot_private_app_daily = 1_000).await;
    let c = client();
    let base = &sim.info.hubspot;
    let url = format!("{base}/crm/v3/objects/contacts?limit=1");
    let pat = &sim.info.hubspot_private_app_token;
    let res = c
        .put(format!("{base}/_sim/hubspot/limits/daily"))
        .json(&json!({"used": 999}))
        .send()
        .await
        .expect("daily");
    let usage: Value = res.json().await.expect("json");
    assert_eq!(usage["daily"], json!([1000, 1]), "one call left today: {usage}");
    let res = c.get(&url).bearer_auth(pat).send().await.expect("get");
    assert_eq!(res.status(), 200, "the last call of the day");
    assert_eq!(header(&res, "x-hubspot-ratelimit-daily-remaining").as_deref(), Some("0"), "none");
    let res = c.get(&url).bearer_auth(pat).send().await.expect("get");
    assert_eq!(res.status(), 429, "the daily allowance is used up");
    assert_eq!(header(&res, "x-hubspot-ratelimit-daily-remaining").as_deref(), Some("0"), "0 left");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["policyName"], "DAILY", "daily policy");
    assert_eq!(body["message"], "You have reached your daily limit.", "§4.3 message");
    let res = c.get(&url).bearer_auth(token(&sim)).send().await.expect("get");
    assert_eq!(res.status(), 200, "OAuth calls have no daily limit");
    assert_eq!(sim.hubspot.stats().rate_limited_daily, 1, "counted");
    sim.hubspot.set_daily_used(0);
    let res = c.get(&url).bearer_auth(pat).send().await.expect("get");
    assert_eq!(res.status(), 200, "after midnight");
}

#[tokio::test]
async fn admin_routes_edit_count_and_revoke_without_auth() {
    let sim = sim().await;
    let c = client();
    let base = &sim.info.hubspot;
    let id = dhs_simulator::people::people(42, 200)
        .find(|p| p.on_hubspot())
        .and_then(|p| sim.hubspot.contact_by_email(&p.hubspot_email))
        .expect("seeded contact")
        .id;
    let res = c
        .post(format!("{base}/_sim/hubspot/contacts/{id}/edit"))
        .json(&json!({"property": "firstname", "value": "Eve"}))
        .send()
        .await
        .expect("edit");
    assert_eq!(res.status(), 200, "UI edit through the admin route");
    let h = sim.hubspot.history(id, "firstname");
    assert_eq!(
        (h[0].value.as_str(), h[0].source_type.as_str()),
        ("Eve", "CRM_UI"),
        "recorded as a UI edit"
    );
    assert_eq!(h[1].source_type, "IMPORT", "the seeded value stays in history");
    let res = c
        .post(format!("{base}/_sim/hubspot/contacts/{id}/increment"))
        .json(&json!({"property": "sim_number", "by": 2}))
        .send()
        .await
        .expect("inc");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["value"], "2", "empty counts as 0");
    assert_eq!(sim.hubspot.history(id, "sim_number")[0].source_type, "WORKFLOW", "workflow source");
    let res = c
        .post(format!("{base}/_sim/hubspot/contacts/{id}/edit"))
        .json(&json!({"property": "sim_select", "value": "huge"}))
        .send()
        .await
        .expect("edit");
    assert_eq!(res.status(), 400, "UI edits are validated too");
    let tok = token(&sim);
    c.get(format!("{base}/crm/v3/objects/contacts")).bearer_auth(&tok).send().await.expect("get");
    let stats: Value = c
        .get(format!("{base}/_sim/hubspot/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(
        stats["requests"]["contacts.read"], 1,
        "admin calls are not counted, API calls are: {stats}"
    );
    let res =
        c.post(format!("{base}/_sim/hubspot/tokens/revoke-all")).send().await.expect("revoke");
    assert_eq!(res.status(), 204, "revoke-all");
    let res = c
        .get(format!("{base}/crm/v3/objects/contacts"))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401, "token revoked");
    let res = c.get(format!("{base}/no/such/path")).send().await.expect("get");
    assert_eq!(res.status(), 404, "unknown paths → 404 in HubSpot's body");
    let e: Value = res.json().await.expect("json");
    assert_eq!(e["status"], "error", "standard body");
}
