//! Admin routes for tests and Sandbox features, under `/_sim/hubspot/` (no auth, not rate
//! limited, not part of HubSpot):
//!
//! | route | does |
//! |---|---|
//! | `GET /_sim/hubspot/stats` | the [`Stats`](super::Stats) counters |
//! | `POST /_sim/hubspot/stats/reset` | zeroes them |
//! | `GET /_sim/hubspot/info` | portal ids, app id, user, contact count, the private-app token |
//! | `POST /_sim/hubspot/contacts/{id}/edit` | `{"property","value","source":"CRM_UI"\|"WORKFLOW"}`: an edit made in the UI or by a workflow |
//! | `POST /_sim/hubspot/contacts/{id}/increment` | `{"property","by"}`: the workflow "increase property value" action |
//! | `POST /_sim/hubspot/tokens/revoke-all` | revokes every OAuth token (uninstall) |
//! | `POST /_sim/hubspot/oauth/deny-redirect` | `{"enabled": bool}`: Deny redirects with `error=access_denied` |
//! | `GET /_sim/hubspot/limits` | `{"oauth": usage, "private": usage, "dailyUsed": n}`: what the next answer's rate-limit headers would say (usage = `{max, remaining, intervalMs, daily: [allowance, remaining] \| null}`) |
//! | `POST /_sim/hubspot/limits/consume` | `{"app": "private"\|"oauth", "requests": n}`: another process using the same app sends `n` requests now (they fill its rolling window and, for the private app, the daily count, as far as they fit); answers the usage after them plus `taken` (how many fitted) |
//! | `PUT /_sim/hubspot/limits/daily` | `{"used": n}`: the account's private apps used `n` daily calls today (`0`: after midnight); answers the private app's usage |

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::limits::App;
use super::HubSpot;

#[derive(Debug, Deserialize)]
struct Edit {
    property: String,
    value: String,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Increment {
    property: String,
    by: f64,
}

#[derive(Debug, Deserialize)]
struct Toggle {
    enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Consume {
    app: String,
    requests: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DailyUsed {
    used: u64,
}

fn bad(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg}))).into_response()
}

async fn stats(State(hs): State<Arc<HubSpot>>) -> Response {
    Json(hs.stats()).into_response()
}

async fn reset(State(hs): State<Arc<HubSpot>>) -> Response {
    hs.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

async fn info(State(hs): State<Arc<HubSpot>>) -> Response {
    Json(json!({
        "portalId": hs.portal_id(),
        "otherPortalId": hs.other_portal_id(),
        "appId": hs.app_id(),
        "user": hs.user(),
        "contactCount": hs.contact_count(),
        // Tests of the desktop app reach the in-process Sandbox simulator only over HTTP; this
        // token (also printed in the binary's JSON line) lets them read the portal as it is.
        "privateAppToken": hs.private_app_token(),
    }))
    .into_response()
}

async fn edit(
    State(hs): State<Arc<HubSpot>>,
    Path(id): Path<u64>,
    Json(e): Json<Edit>,
) -> Response {
    let r = match e.source.as_deref() {
        None | Some("CRM_UI") => hs.set_property_value_as_user(id, &e.property, &e.value),
        Some("WORKFLOW") => hs.set_property_value_as_workflow(id, &e.property, &e.value),
        Some(other) => Err(format!("unknown source {other}")),
    };
    match r {
        Ok(()) => Json(json!({"id": id.to_string(), "property": e.property, "value": e.value}))
            .into_response(),
        Err(m) => bad(m),
    }
}

async fn increment(
    State(hs): State<Arc<HubSpot>>,
    Path(id): Path<u64>,
    Json(i): Json<Increment>,
) -> Response {
    match hs.increment_property_as_workflow(id, &i.property, i.by) {
        Ok(v) => {
            Json(json!({"id": id.to_string(), "property": i.property, "value": v})).into_response()
        }
        Err(m) => bad(m),
    }
}

async fn revoke_all(State(hs): State<Arc<HubSpot>>) -> Response {
    hs.revoke_all_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn deny_redirect(State(hs): State<Arc<HubSpot>>, Json(t): Json<Toggle>) -> Response {
    hs.set_redirect_on_deny(t.enabled);
    StatusCode::NO_CONTENT.into_response()
}

async fn limits(State(hs): State<Arc<HubSpot>>) -> Response {
    Json(json!({
        "oauth": hs.rate_limit_usage(App::OAuth),
        "private": hs.rate_limit_usage(App::Private),
        "dailyUsed": hs.daily_used(),
    }))
    .into_response()
}

async fn consume(State(hs): State<Arc<HubSpot>>, Json(c): Json<Consume>) -> Response {
    let app = match c.app.as_str() {
        "private" => App::Private,
        "oauth" => App::OAuth,
        other => return bad(format!("unknown app {other:?}: use \"private\" or \"oauth\"")),
    };
    let (taken, usage) = hs.consume_rate_limit(app, c.requests);
    let mut body = serde_json::to_value(usage).unwrap_or_default();
    body["taken"] = json!(taken);
    Json(body).into_response()
}

async fn daily(State(hs): State<Arc<HubSpot>>, Json(d): Json<DailyUsed>) -> Response {
    hs.set_daily_used(d.used);
    Json(hs.rate_limit_usage(App::Private)).into_response()
}

/// The admin routes.
pub fn routes() -> axum::Router<Arc<HubSpot>> {
    axum::Router::new()
        .route("/_sim/hubspot/stats", get(stats))
        .route("/_sim/hubspot/stats/reset", post(reset))
        .route("/_sim/hubspot/info", get(info))
        .route("/_sim/hubspot/contacts/{id}/edit", post(edit))
        .route("/_sim/hubspot/contacts/{id}/increment", post(increment))
        .route("/_sim/hubspot/tokens/revoke-all", post(revoke_all))
        .route("/_sim/hubspot/oauth/deny-redirect", post(deny_redirect))
        .route("/_sim/hubspot/limits", get(limits))
        .route("/_sim/hubspot/limits/consume", post(consume))
        .route("/_sim/hubspot/limits/daily", axum::routing::put(daily))
}
