//! Fault injection as a real HTTP client (reqwest) sees it: latency, each API's 429 and 5xx
//! shapes, shares over many requests with a fixed seed, dropped connections, malformed JSON,
//! per-route scoping, and run-time changes through `/_sim/faults`.

use std::time::{Duration, Instant};

use dhs_simulator::faults::{Api, FaultConfig, FaultRule};
use dhs_simulator::{start, Config, Simulator};
use serde_json::{json, Value};

async fn sim() -> Simulator {
    // A high Didomi limit: these tests send hundreds of requests and must only see faults.
    start(Config { users: 50, didomi_requests_per_15s: 100_000, ..Config::default() })
        .await
        .expect("simulator starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

fn only(rule: FaultRule, seed: u64) -> FaultConfig {
    FaultConfig { seed, rules: vec![rule] }
}

/// `POST /v1/sessions` with good credentials: a cheap, deterministic 200 with a JSON body.
async fn didomi_session(
    sim: &Simulator,
    c: &reqwest::Client,
) -> reqwest::Result<reqwest::Response> {
    let key = &sim.info.didomi_api_key;
    c.post(format!("{}/v1/sessions", sim.info.didomi))
        .json(&json!({ "type": "api-key", "key": key.key, "secret": key.secret }))
        .send()
        .await
}

#[tokio::test]
async fn latency_is_added_and_measured() {
    let sim = sim().await;
    let c = client();
    let t = Instant::now();
    didomi_session(&sim, &c).await.expect("baseline answers");
    let baseline = t.elapsed();
    sim.faults.set(only(FaultRule { latency_ms: 300, jitter_ms: 100, ..FaultRule::default() }, 1));
    let t = Instant::now();
    let res = didomi_session(&sim, &c).await.expect("delayed request still answers");
    let delayed = t.elapsed();
    assert_eq!(res.status(), 200, "latency alone does not change the answer");
    assert!(delayed >= Duration::from_millis(300), "at least the fixed latency: {delayed:?}");
    assert!(
        delayed < Duration::from_millis(300) + Duration::from_millis(100) + Duration::from_secs(1),
        "no more than latency + jitter + slack: {delayed:?}"
    );
    assert!(baseline < Duration::from_millis(300), "the baseline was fast: {baseline:?}");
    assert_eq!(sim.faults.counters().delayed, 1, "one delayed request counted");
    sim.shutdown().await;
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().expect("ascii header"))
}

/// Issue 10: injected 429s said `110`/`10000` whoever called; they carry the caller's own
/// limits now (a private app's Max, Interval and Daily pair; the OAuth app's Max and Interval).
#[tokio::test]
async fn hubspot_429_looks_like_hubspot() {
    let sim = start(Config {
        users: 50,
        didomi_requests_per_15s: 100_000,
        hubspot_requests_per_10s: 120,
        hubspot_private_app_requests_per_10s: 190,
        hubspot_private_app_daily: 625_000,
        ..Config::default()
    })
    .await
    .expect("simulator starts");
    let c = client();
    let private = sim.info.hubspot_private_app_token.clone();
    let oauth = sim.hubspot.issue_tokens(&["oauth", "crm.objects.contacts.read"]).access_token;
    let url = format!("{}/crm/v3/objects/contacts?limit=1", sim.info.hubspot);
    for _ in 0..3 {
        let res = c.get(&url).bearer_auth(&private).send().await.expect("answers");
        assert_eq!(res.status(), 200, "normal answers before the faults");
    }
    sim.faults
        .set(only(FaultRule { api: Some(Api::HubSpot), burst_429: 3, ..FaultRule::default() }, 1));
    let res = c.get(&url).bearer_auth(&private).send().await.expect("answers");
    assert_eq!(res.status(), 429, "the private app's request of the burst is a 429");
    assert_eq!(header(&res, "X-HubSpot-RateLimit-Max"), Some("190"), "the private app's max");
    assert_eq!(header(&res, "X-HubSpot-RateLimit-Remaining"), Some("0"), "remaining 0");
    assert_eq!(
        header(&res, "X-HubSpot-RateLimit-Interval-Milliseconds"),
        Some("10000"),
        "interval header"
    );
    assert_eq!(header(&res, "X-HubSpot-RateLimit-Daily"), Some("625000"), "daily allowance");
    assert_eq!(
        header(&res, "X-HubSpot-RateLimit-Daily-Remaining"),
        Some("624997"),
        "what is left today after the three accepted calls"
    );
    let res = c.get(&url).bearer_auth(&oauth).send().await.expect("answers");
    assert_eq!(res.status(), 429, "the OAuth app's request of the burst is a 429");
    assert_eq!(header(&res, "X-HubSpot-RateLimit-Max"), Some("120"), "the OAuth app's max");
    assert_eq!(header(&res, "X-HubSpot-RateLimit-Remaining"), Some("0"), "remaining 0");
    assert!(header(&res, "X-HubSpot-RateLimit-Daily").is_none(), "no daily pair for OAuth");
    let res = c.get(&url).send().await.expect("answers");
    assert_eq!(res.status(), 429, "an unauthenticated request of the burst is a 429");
    assert!(
        header(&res, "X-HubSpot-RateLimit-Max").is_none(),
        "no caller, no limits to tell (HubSpot checks the token first)"
    );
    let body: Value = res.json().await.expect("429 body is JSON");
    assert_eq!(body["status"], "error", "status field: {body}");
    assert_eq!(body["errorType"], "RATE_LIMIT", "errorType: {body}");
    assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING", "policyName: {body}");
    assert!(body["correlationId"].is_string() && body["requestId"].is_string(), "ids: {body}");
    assert!(body["message"].as_str().unwrap().contains("ten_secondly_rolling"), "message: {body}");
    let res = c
        .post(format!("{}/crm/v3/objects/contacts/search", sim.info.hubspot))
        .json(&json!({}))
        .send()
        .await
        .expect("answers");
    assert_ne!(res.status(), 429, "the burst of 3 is over");
    sim.faults.set(only(FaultRule { share_429: 1.0, ..FaultRule::default() }, 1));
    let res = c
        .post(format!("{}/crm/v3/objects/contacts/search", sim.info.hubspot))
        .json(&json!({}))
        .send()
        .await
        .expect("answers");
    assert_eq!(res.status(), 429, "share 1.0 limits search too");
    assert!(
        res.headers().get("X-HubSpot-RateLimit-Max").is_none(),
        "search 429s carry no rate headers"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["policyName"], "SECONDLY", "the search limiter's policy: {body}");
    assert_eq!(sim.faults.counters().rate_limited, 4, "four 429s counted");
    sim.shutdown().await;
}

#[tokio::test]
async fn didomi_429_looks_like_didomi() {
    let sim = sim().await;
    let c = client();
    sim.faults
        .set(only(FaultRule { api: Some(Api::Didomi), burst_429: 1, ..FaultRule::default() }, 1));
    let res = didomi_session(&sim, &c).await.expect("answers");
    assert_eq!(res.status(), 429, "the burst answers 429");
    let retry: u64 =
        res.headers()["retry-after"].to_str().unwrap().parse().expect("Retry-After in seconds");
    assert!(retry >= 1, "Retry-After is a positive number of seconds");
    assert!(retry <= 15, "at most the 15-second window: {retry}");
    assert_eq!(
        header(&res, "RateLimit-Policy"),
        Some("100000;w=15"),
        "the organization's real limit, not a hard-coded 100"
    );
    assert_eq!(
        header(&res, "RateLimit"),
        Some(format!("limit=100000, remaining=0, reset={retry}").as_str()),
        "nothing remaining, reset with Retry-After"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], 429, "code: {body}");
    assert_eq!(body["name"], "TooManyRequests", "name: {body}");
    assert!(
        body["message"].is_string() && body["errors"].is_object(),
        "message and errors: {body}"
    );
    assert_eq!(didomi_session(&sim, &c).await.expect("answers").status(), 200, "burst over");
    sim.shutdown().await;
}

#[tokio::test]
async fn server_error_share_is_roughly_right_and_deterministic() {
    let sim = sim().await;
    let c = client();
    let cfg = only(FaultRule { share_5xx: 0.3, ..FaultRule::default() }, 7);
    let mut runs = Vec::new();
    for _ in 0..2 {
        sim.faults.set(cfg.clone());
        let mut statuses = Vec::new();
        for _ in 0..200 {
            let res = didomi_session(&sim, &c).await.expect("answers");
            let s = res.status().as_u16();
            if s >= 500 {
                let body: Value = res.json().await.expect("5xx body is JSON");
                assert_eq!(body["code"], s, "Didomi 5xx body carries its code: {body}");
                assert!(
                    body["name"].is_string() && body["errors"].is_object(),
                    "Didomi shape: {body}"
                );
            }
            statuses.push(s);
        }
        runs.push(statuses);
    }
    let errors = runs[0].iter().filter(|s| **s >= 500).count();
    assert!((40..=80).contains(&errors), "about 30% of 200 are 5xx, got {errors}");
    assert!(
        runs[0].iter().all(|s| [200, 500, 502, 503, 504].contains(s)),
        "only 200 or the four 5xx"
    );
    let kinds: std::collections::HashSet<_> = runs[0].iter().filter(|s| **s >= 500).collect();
    assert!(kinds.len() >= 3, "several 5xx statuses drawn: {kinds:?}");
    assert_eq!(runs[0], runs[1], "the same seed gives the same sequence");
    assert_eq!(sim.faults.counters().server_errors, 2 * errors as u64, "every 5xx counted");

    let hs = c.get(format!("{}/crm/v3/objects/contacts", sim.info.hubspot));
    sim.faults.set(only(FaultRule { share_5xx: 1.0, ..FaultRule::default() }, 7));
    let res = hs.send().await.expect("answers");
    assert!(res.status().is_server_error(), "HubSpot 5xx");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "error", "HubSpot error shape: {body}");
    assert!(
        body["correlationId"].is_string() && body["category"].is_string(),
        "HubSpot fields: {body}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error() {
    let sim = sim().await;
    let c = client();
    // Warm a keep-alive connection first: the drop must surface on a pooled connection too.
    assert_eq!(didomi_session(&sim, &c).await.expect("warm-up").status(), 200, "warm-up answered");
    sim.faults.set(only(FaultRule { share_drop: 1.0, ..FaultRule::default() }, 3));
    for api in ["didomi", "hubspot"] {
        let base = if api == "didomi" { &sim.info.didomi } else { &sim.info.hubspot };
        let err = c
            .get(format!("{base}/v1/config-trees"))
            .send()
            .await
            .expect_err("a dropped connection gives no HTTP response at all");
        assert!(err.status().is_none(), "{api}: no status was received: {err:?}");
        assert!(
            err.is_request() || err.is_connect() || err.is_body(),
            "{api}: transport-level error: {err:?}"
        );
    }
    assert_eq!(sim.faults.counters().dropped, 2, "both drops counted");
    sim.faults.clear();
    assert_eq!(
        didomi_session(&sim, &c).await.expect("the client recovers").status(),
        200,
        "recovered"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_body_fails_to_parse() {
    let sim = sim().await;
    let c = client();
    sim.faults.set(only(FaultRule { share_malformed: 1.0, ..FaultRule::default() }, 3));
    let res = didomi_session(&sim, &c).await.expect("answers");
    assert_eq!(res.status(), 200, "malformed answers are 200");
    let text = res.text().await.expect("the body arrives");
    assert!(text.starts_with('{'), "it is the start of the real JSON: {text}");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "but it does not parse: {text}");
    assert_eq!(sim.faults.counters().malformed, 1, "counted");
    sim.shutdown().await;
}

#[tokio::test]
async fn rules_are_scoped_by_route_method_and_api() {
    let sim = sim().await;
    let c = client();
    sim.faults.set(FaultConfig {
        seed: 1,
        rules: vec![FaultRule {
            api: Some(Api::Didomi),
            path_prefix: Some("/v1/config-trees".into()),
            method: Some("GET".into()),
            share_5xx: 1.0,
            ..FaultRule::default()
        }],
    });
    assert_eq!(didomi_session(&sim, &c).await.unwrap().status(), 200, "other routes are untouched");
    let res = c.get(format!("{}/v1/config-trees", sim.info.didomi)).send().await.unwrap();
    assert!(res.status().is_server_error(), "the scoped route fails");
    let res = c.post(format!("{}/v1/config-trees", sim.info.didomi)).send().await.unwrap();
    assert!(!res.status().is_server_error(), "another method on that route is untouched");
    let res = c.get(format!("{}/v1/config-trees", sim.info.hubspot)).send().await.unwrap();
    assert!(!res.status().is_server_error(), "the same path on HubSpot is untouched");
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_route_changes_faults_at_run_time_and_is_never_faulted() {
    let sim = sim().await;
    let c = client();
    let cfg = json!({ "seed": 5, "rules": [ { "share_5xx": 1.0 } ] });
    let res = c.put(format!("{}/_sim/faults", sim.info.hubspot)).json(&cfg).send().await.unwrap();
    assert_eq!(res.status(), 200, "PUT accepted");
    assert_eq!(sim.faults.config().rules[0].share_5xx, 1.0, "the shared switches changed");
    assert!(
        didomi_session(&sim, &c).await.unwrap().status().is_server_error(),
        "applies to Didomi too"
    );
    let got: Value = c
        .get(format!("{}/_sim/faults", sim.info.didomi))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["config"]["rules"][0]["share_5xx"], 1.0,
        "GET shows the rules even under faults: {got}"
    );
    assert_eq!(got["counters"]["server_errors"], 1, "GET shows the counters: {got}");
    let bad = c
        .put(format!("{}/_sim/faults", sim.info.didomi))
        .json(&json!({ "rules": [ { "share_5xx": 2.0 } ] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400, "an invalid share is refused");
    let unknown = c
        .put(format!("{}/_sim/faults", sim.info.didomi))
        .json(&json!({ "rules": [ { "share_500": 0.5 } ] }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400, "a misspelt field is refused, not ignored");
    let res = c.delete(format!("{}/_sim/faults", sim.info.didomi)).send().await.unwrap();
    assert_eq!(res.status(), 204, "DELETE clears");
    assert!(sim.faults.config().rules.is_empty(), "no rules left");
    assert_eq!(didomi_session(&sim, &c).await.unwrap().status(), 200, "back to normal");
    sim.shutdown().await;
}
