//! Helpers shared by the `hubspot_*` integration tests: starting a simulator, an HTTP client
//! that does not follow redirects, the browser-less OAuth dance, and the recursive "same shape"
//! comparison against the reference's example bodies in `tests/fixtures/hubspot/`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use dhs_simulator::{start, Config, Simulator};
use serde_json::Value;

/// Starts a simulator with a small population and the given tweaks.
pub async fn sim_with(f: impl FnOnce(&mut Config)) -> Simulator {
    let mut config = Config { users: 200, ..Config::default() };
    f(&mut config);
    start(config).await.expect("simulator starts")
}

/// Starts a simulator with a small population.
pub async fn sim() -> Simulator {
    sim_with(|_| {}).await
}

/// A client that does not follow redirects (the OAuth tests look at the `Location`).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// Loads a fixture of `tests/fixtures/hubspot/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/hubspot/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences between the shape of `expected` (a reference example) and `actual`: every key of
/// an expected object must exist in the actual object with the same JSON type (recursively;
/// keys listed in `optional` may be absent); the first element of an expected array is compared
/// with every element of the actual array. Extra keys in `actual` are allowed.
pub fn shape_diff(
    expected: &Value,
    actual: &Value,
    optional: &[&str],
    path: &str,
    out: &mut Vec<String>,
) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => shape_diff(ev, av, optional, &p, out),
                    None if optional.contains(&k.as_str()) => {}
                    None => out.push(format!("{p}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let Some(first) = e.first() {
                for (i, av) in a.iter().enumerate() {
                    shape_diff(first, av, optional, &format!("{path}[{i}]"), out);
                }
            }
        }
        (e, a) if type_name(e) != type_name(a) => {
            out.push(format!("{path}: expected {}, got {} ({a})", type_name(e), type_name(a)))
        }
        _ => {}
    }
}

/// Asserts `actual` has the shape of fixture `name`.
pub fn assert_shape(name: &str, actual: &Value, optional: &[&str]) {
    let mut out = Vec::new();
    shape_diff(&fixture(name), actual, optional, "$", &mut out);
    assert!(out.is_empty(), "{name}: the simulator's body differs from the reference example: {out:#?}\nbody: {actual:#}");
}

/// The app's required scopes as one space-separated string.
pub const SCOPES: &str =
    "oauth crm.objects.contacts.read crm.objects.contacts.write crm.schemas.contacts.read crm.schemas.contacts.write";

/// Query parameters of a URL.
pub fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).expect("url").query_pairs().into_owned().collect()
}

/// The hidden fields and account options of the consent page, as the form would post them.
pub fn form_of(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<input type=\"hidden\" name=\"").skip(1) {
        let name = part.split('"').next().unwrap_or("").to_string();
        let value = part.split("value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap_or("");
        let value = value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        out.push((name, value));
    }
    out
}

/// Account ids offered by the consent page's `<select name="account">`.
pub fn accounts_of(html: &str) -> Vec<String> {
    html.split("<option value=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap_or("").to_string())
        .collect()
}

/// Opens the authorize URL, submits the consent form with `decision` and `account`, returns the
/// decision response.
pub async fn consent(
    sim: &Simulator,
    c: &reqwest::Client,
    extra: &[(&str, &str)],
    decision: &str,
    account: Option<&str>,
) -> reqwest::Response {
    let app = &sim.info.hubspot_app;
    let mut params = vec![
        ("client_id", app.client_id.as_str()),
        ("redirect_uri", app.redirect_uris[0].as_str()),
        ("scope", SCOPES),
        ("state", "st-123"),
    ];
    params.extend_from_slice(extra);
    let page = c
        .get(format!("{}/oauth/authorize", sim.info.hubspot))
        .query(&params)
        .send()
        .await
        .expect("authorize");
    assert_eq!(page.status(), 200, "consent page shown");
    let html = page.text().await.expect("html");
    let mut form = form_of(&html);
    let acct = account.map(str::to_string).unwrap_or_else(|| accounts_of(&html)[0].clone());
    form.push(("account".into(), acct));
    form.push(("decision".into(), decision.into()));
    c.post(format!("{}/oauth/authorize/decision", sim.info.hubspot))
        .form(&form)
        .send()
        .await
        .expect("decision")
}

/// Runs the whole flow and returns the authorization code.
pub async fn code(sim: &Simulator, c: &reqwest::Client, extra: &[(&str, &str)]) -> String {
    let res = consent(sim, c, extra, "grant", None).await;
    assert_eq!(res.status(), 302, "grant redirects with 302 Found");
    let loc = res.headers()["location"].to_str().expect("location").to_string();
    let q = query_of(&loc);
    assert_eq!(q.get("state").map(String::as_str), Some("st-123"), "state carried to the redirect");
    q.get("code").cloned().expect("code in redirect")
}

/// Exchanges a code at `/oauth/2026-03/token`.
pub async fn exchange(
    sim: &Simulator,
    c: &reqwest::Client,
    code: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let app = &sim.info.hubspot_app;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", app.redirect_uris[0].as_str()),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
    ];
    form.extend_from_slice(extra);
    c.post(format!("{}/oauth/2026-03/token", sim.info.hubspot))
        .form(&form)
        .send()
        .await
        .expect("token")
}

/// A fresh access token of the main portal with all app scopes (browser-less).
pub fn token(sim: &Simulator) -> String {
    sim.hubspot.issue_tokens(&SCOPES.split(' ').collect::<Vec<_>>()).access_token
}
