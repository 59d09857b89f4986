//! Fault injection for both simulated APIs.
//!
//! A [`FaultConfig`] is an ordered list of [`FaultRule`]s plus a seed. For every request (except
//! the simulator's own admin routes under `/_sim/`), the **first** rule whose scope matches (API,
//! path prefix, method) applies:
//!
//! 1. its latency (`latency_ms` plus a uniform `0..=jitter_ms`) is waited first;
//! 2. then at most one fault is drawn, in this order: a pending 429 of a burst
//!    (`burst_429`: "the next N requests"), else one uniform roll in `[0, 1)` picks a 429
//!    (`share_429`), a 5xx (`share_5xx`; 500/502/503/504 evenly), a dropped connection
//!    (`share_drop`) or a malformed body (`share_malformed`), in that order of shares.
//!
//! The faulted answers look like each API's own: a HubSpot 429 carries the documented body
//! (`errorType: RATE_LIMIT`, `policyName`) and the caller's own `X-HubSpot-RateLimit-*` headers
//! (its app's Max and Interval, and for a private app the Daily pair, as the real limiter
//! would send them; none when the caller is not authenticated, since HubSpot checks the token
//! first); a Didomi 429 is `{code, name, message, errors}` with `Retry-After` and IETF
//! `RateLimit` headers of the organization's real limit and window; 5xx bodies use
//! each API's error shape. A dropped connection is a response whose body fails before anything
//! is written: hyper then closes the TCP connection without sending the status line, so a client
//! sees a transport error, not an HTTP answer. A malformed answer is the real handler's answer
//! with status 200 and its JSON cut in half.
//!
//! Draws are deterministic: request number `n` (counted from the last [`Faults::set`]) rolls
//! with an RNG seeded from `(seed, n)`, so the same sequence of requests gets the same faults.
//!
//! At run time: [`Faults::set`], [`Faults::clear`], and on both servers
//! `GET/PUT/DELETE /_sim/faults` (JSON: `{config, counters}` / a [`FaultConfig`] / nothing).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which simulated API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// HubSpot.
    HubSpot,
    /// Didomi.
    Didomi,
}

/// One fault rule: where it applies and what it injects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    /// Only this API (`"hubspot"` / `"didomi"`); `None` = both.
    pub api: Option<Api>,
    /// Only paths starting with this prefix (e.g. `/crm/v3/objects/contacts/batch`); `None` = all.
    pub path_prefix: Option<String>,
    /// Only this HTTP method (e.g. `"POST"`, case-insensitive); `None` = all.
    pub method: Option<String>,
    /// Fixed latency added before the request is handled, in milliseconds.
    pub latency_ms: u64,
    /// Extra latency drawn uniformly in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// The next N matching requests are answered with a 429 (a burst), before any share applies.
    pub burst_429: u32,
    /// Share (0..=1) of matching requests answered with the API's own 429.
    pub share_429: f64,
    /// Share (0..=1) answered with a 500, 502, 503 or 504 in the API's error shape.
    pub share_5xx: f64,
    /// Share (0..=1) whose TCP connection is closed without any response.
    pub share_drop: f64,
    /// Share (0..=1) answered 200 with the real JSON body cut in half.
    pub share_malformed: f64,
}

impl FaultRule {
    fn matches(&self, api: Api, method: &Method, path: &str) -> bool {
        self.api.is_none_or(|a| a == api)
            && self.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    }

    fn is_noop(&self) -> bool {
        self.latency_ms == 0
            && self.jitter_ms == 0
            && self.burst_429 == 0
            && self.share_429 <= 0.0
            && self.share_5xx <= 0.0
            && self.share_drop <= 0.0
            && self.share_malformed <= 0.0
    }
}

/// The faults to inject: ordered rules (first match wins) and the seed of the draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the per-request draws (latency jitter, shares, 5xx status).
    pub seed: u64,
    /// Rules, checked in order; the first whose scope matches a request applies.
    pub rules: Vec<FaultRule>,
}

impl FaultConfig {
    /// `true` when no rule injects anything.
    pub fn is_empty(&self) -> bool {
        self.rules.iter().all(FaultRule::is_noop)
    }

    /// Checks shares are within `0..=1` and add up to at most 1 per rule.
    ///
    /// # Errors
    /// A message naming the first bad rule.
    pub fn validate(&self) -> Result<(), String> {
        for (i, r) in self.rules.iter().enumerate() {
            let shares = [r.share_429, r.share_5xx, r.share_drop, r.share_malformed];
            if shares.iter().any(|s| !s.is_finite() || *s < 0.0 || *s > 1.0) {
                return Err(format!("rule {i}: every share must be between 0 and 1"));
            }
            if shares.iter().sum::<f64>() > 1.0 + 1e-9 {
                return Err(format!("rule {i}: shares add up to more than 1"));
            }
        }
        Ok(())
    }
}

/// How many faults of each kind were injected since start (not reset by [`Faults::set`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounters {
    /// Requests that were delayed (latency or jitter > 0).
    pub delayed: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// Connections closed without a response.
    pub dropped: u64,
    /// 200 answers with a truncated JSON body.
    pub malformed: u64,
}

#[derive(Debug)]
struct Live {
    config: FaultConfig,
    /// Remaining 429s of each rule's burst.
    burst_left: Vec<u32>,
}

/// Live fault switches shared by both servers.
#[derive(Debug)]
pub struct Faults {
    live: Mutex<Live>,
    request_no: AtomicU64,
    delayed: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    dropped: AtomicU64,
    malformed: AtomicU64,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    RateLimit,
    ServerError(u16),
    Drop,
    Malformed,
}

impl Faults {
    /// Switches set to `config`.
    pub fn new(config: FaultConfig) -> Self {
        let burst_left = config.rules.iter().map(|r| r.burst_429).collect();
        Self {
            live: Mutex::new(Live { config, burst_left }),
            request_no: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
        }
    }

    /// Replaces the rules (bursts restart, the draw sequence restarts from request 0).
    pub fn set(&self, config: FaultConfig) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.burst_left = config.rules.iter().map(|r| r.burst_429).collect();
        live.config = config;
        self.request_no.store(0, Ordering::SeqCst);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// The rules in force.
    pub fn config(&self) -> FaultConfig {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).config.clone()
    }

    /// Faults injected so far, per kind.
    pub fn counters(&self) -> FaultCounters {
        FaultCounters {
            delayed: self.delayed.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
        }
    }

    /// Decides the delay and the fault for one request.
    fn draw(&self, api: Api, method: &Method, path: &str) -> (Duration, Fault) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let Some(idx) = live.config.rules.iter().position(|r| r.matches(api, method, path)) else {
            return (Duration::ZERO, Fault::None);
        };
        let n = self.request_no.fetch_add(1, Ordering::SeqCst);
        let mut rng =
            ChaCha8Rng::seed_from_u64(live.config.seed ^ n.wrapping_mul(0xA076_1D64_78BD_642F));
        let rule = live.config.rules[idx].clone();
        let jitter = if rule.jitter_ms > 0 { rng.random_range(0..=rule.jitter_ms) } else { 0 };
        let delay = Duration::from_millis(rule.latency_ms + jitter);
        let roll: f64 = rng.random();
        let status_pick: usize = rng.random_range(0..4);
        let fault = if live.burst_left[idx] > 0 {
            live.burst_left[idx] -= 1;
            Fault::RateLimit
        } else {
            let t429 = rule.share_429;
            let t5xx = t429 + rule.share_5xx;
            let tdrop = t5xx + rule.share_drop;
            let tmal = tdrop + rule.share_malformed;
            if roll < t429 {
                Fault::RateLimit
            } else if roll < t5xx {
                Fault::ServerError([500, 502, 503, 504][status_pick])
            } else if roll < tdrop {
                Fault::Drop
            } else if roll < tmal {
                Fault::Malformed
            } else {
                Fault::None
            }
        };
        (delay, fault)
    }
}

/// The rate-limit headers an injected 429 carries for a request (from its headers): what the
/// API's real limiter would send that caller.
pub type RateHeaders = Arc<dyn Fn(&HeaderMap) -> HeaderMap + Send + Sync>;

#[derive(Clone)]
struct FaultState {
    faults: Arc<Faults>,
    api: Api,
    rate_headers: RateHeaders,
}

/// Wraps an API's router with the fault layer and adds the admin route `/_sim/faults`
/// (never faulted, like every `/_sim/` path). `rate_headers` gives an injected 429 its
/// headers.
pub fn layer(router: Router, faults: Arc<Faults>, api: Api, rate_headers: RateHeaders) -> Router {
    // The middleware wraps the whole router as one service (not `Router::layer`), so requests
    // that match no route (the router's default 404) are faulted too.
    let state = FaultState { faults: faults.clone(), api, rate_headers };
    let faulted =
        tower::Layer::layer(&axum::middleware::from_fn_with_state(state, fault_middleware), router);
    Router::new()
        .route("/_sim/faults", get(get_faults).put(put_faults).delete(delete_faults))
        .with_state(faults)
        .fallback_service(faulted)
}

async fn get_faults(State(faults): State<Arc<Faults>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "config": faults.config(), "counters": faults.counters() }))
}

async fn put_faults(State(faults): State<Arc<Faults>>, body: Bytes) -> Response {
    let config: FaultConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": e.to_string() })))
                .into_response()
        }
    };
    if let Err(e) = config.validate() {
        return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": e }))).into_response();
    }
    faults.set(config);
    get_faults(State(faults)).await.into_response()
}

async fn delete_faults(State(faults): State<Arc<Faults>>) -> StatusCode {
    faults.clear();
    StatusCode::NO_CONTENT
}

async fn fault_middleware(State(state): State<FaultState>, req: Request, next: Next) -> Response {
    let FaultState { faults, api, rate_headers } = state;
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sim/") {
        return next.run(req).await;
    }
    let (delay, fault) = faults.draw(api, req.method(), &path);
    if !delay.is_zero() {
        faults.delayed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(delay).await;
    }
    match fault {
        Fault::None => next.run(req).await,
        Fault::RateLimit => {
            faults.rate_limited.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%path, "fault: 429");
            rate_limit_response(api, &path, rate_headers(req.headers()))
        }
        Fault::ServerError(code) => {
            faults.server_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%path, code, "fault: 5xx");
            server_error_response(api, code)
        }
        Fault::Drop => {
            faults.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%path, "fault: dropped connection");
            dropped_connection()
        }
        Fault::Malformed => {
            faults.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%path, "fault: malformed body");
            let res = next.run(req).await;
            malformed(res).await
        }
    }
}

/// A response whose body fails on its first poll. hyper has only buffered the status line and
/// headers at that point; on a body error it tears the connection down without flushing them,
/// so the client reads EOF where a response should be: a transport error.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated dropped connection",
        ))
    });
    let mut res = Response::new(Body::from_stream(stream));
    // Keep-alive must not survive this connection either way.
    res.headers_mut().insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
    res
}

async fn malformed(res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let cut =
        if bytes.len() >= 2 { bytes.slice(..bytes.len() / 2) } else { Bytes::from_static(b"{\"") };
    parts.status = StatusCode::OK;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(cut))
}

/// The API's own 429 answer (used by the fault layer), with `headers` (the caller's rate-limit
/// headers, see [`RateHeaders`]).
///
/// HubSpot: the §4.3 body with `policyName` `TEN_SECONDLY_ROLLING` (or `SECONDLY` with the
/// search limiter's message for `/crm/v3/objects/*/search`) and the `X-HubSpot-RateLimit-*`
/// `headers` (none on search, as documented). Didomi: `{code: 429, name: "TooManyRequests",
/// ...}` with `headers` (`Retry-After` and the IETF `RateLimit`/`RateLimit-Policy` headers).
pub fn rate_limit_response(api: Api, path: &str, headers: HeaderMap) -> Response {
    match api {
        Api::HubSpot => {
            let search = path.ends_with("/search");
            let (policy, message) = if search {
                ("SECONDLY", "You have reached your secondly limit.")
            } else {
                ("TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.")
            };
            let body = serde_json::json!({
                "status": "error",
                "message": message,
                "errorType": "RATE_LIMIT",
                "correlationId": uuid::Uuid::new_v4().to_string(),
                "policyName": policy,
                "requestId": uuid::Uuid::new_v4().to_string(),
            });
            let mut res = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
            if !search {
                res.headers_mut().extend(headers);
            }
            res
        }
        Api::Didomi => {
            let mut res = didomi_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            res.headers_mut().extend(headers);
            res
        }
    }
}

/// A 5xx in the API's own error shape (HubSpot §4.5 body, Didomi `{code, name, message, errors}`).
pub fn server_error_response(api: Api, code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match api {
        Api::HubSpot => {
            let body = serde_json::json!({
                "status": "error",
                "message": status.canonical_reason().unwrap_or("Internal Server Error"),
                "correlationId": uuid::Uuid::new_v4().to_string(),
                "category": if code == 503 { "SERVICE_UNAVAILABLE" } else { "INTERNAL_ERROR" },
                "context": {},
                "links": {},
            });
            (status, Json(body)).into_response()
        }
        Api::Didomi => didomi_error(status, status.canonical_reason().unwrap_or("Server error")),
    }
}

/// The error name Didomi (a Feathers service) uses for a status.
pub fn didomi_error_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequest",
        401 => "NotAuthenticated",
        402 => "PaymentError",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        408 => "Timeout",
        409 => "Conflict",
        411 => "LengthRequired",
        422 => "Unprocessable",
        429 => "TooManyRequests",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "Unavailable",
        504 => "GatewayTimeout",
        _ => "GeneralError",
    }
}

/// A Didomi error answer: `{code, name, message, errors: {}}`.
pub fn didomi_error(status: StatusCode, message: &str) -> Response {
    didomi_error_with(status, message, serde_json::json!({}))
}

/// A Didomi error answer with sub-errors in `errors`.
pub fn didomi_error_with(status: StatusCode, message: &str, errors: serde_json::Value) -> Response {
    let body = serde_json::json!({
        "code": status.as_u16(),
        "name": didomi_error_name(status),
        "message": message,
        "errors": errors,
    });
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(f: impl FnOnce(&mut FaultRule)) -> FaultRule {
        let mut r = FaultRule::default();
        f(&mut r);
        r
    }

    #[test]
    fn first_matching_rule_applies_and_scopes() {
        let f = Faults::new(FaultConfig {
            seed: 1,
            rules: vec![
                rule(|r| {
                    r.path_prefix = Some("/v1/consents".into());
                    r.method = Some("post".into());
                    r.share_5xx = 1.0;
                }),
                rule(|r| {
                    r.api = Some(Api::HubSpot);
                    r.share_429 = 1.0;
                }),
            ],
        });
        assert!(
            matches!(
                f.draw(Api::Didomi, &Method::POST, "/v1/consents/events").1,
                Fault::ServerError(_)
            ),
            "the first rule matches POST under its prefix"
        );
        assert_eq!(
            f.draw(Api::Didomi, &Method::GET, "/v1/consents/users").1,
            Fault::None,
            "a GET is outside the first rule and the second is HubSpot-only"
        );
        assert_eq!(
            f.draw(Api::HubSpot, &Method::GET, "/crm/v3/objects/contacts").1,
            Fault::RateLimit,
            "the HubSpot rule applies to HubSpot"
        );
    }

    #[test]
    fn burst_then_shares_deterministic() {
        let cfg = FaultConfig {
            seed: 9,
            rules: vec![rule(|r| {
                r.burst_429 = 3;
                r.share_drop = 0.5;
            })],
        };
        let f = Faults::new(cfg.clone());
        let seq: Vec<Fault> = (0..50).map(|_| f.draw(Api::Didomi, &Method::GET, "/x").1).collect();
        assert!(seq[..3].iter().all(|x| *x == Fault::RateLimit), "the burst comes first: {seq:?}");
        let drops = seq[3..].iter().filter(|x| **x == Fault::Drop).count();
        assert!((10..=37).contains(&drops), "about half dropped, got {drops}");
        f.set(cfg);
        let again: Vec<Fault> =
            (0..50).map(|_| f.draw(Api::Didomi, &Method::GET, "/x").1).collect();
        assert_eq!(seq, again, "same seed, same sequence after set()");
    }

    #[test]
    fn validate_rejects_bad_shares() {
        let bad = FaultConfig { seed: 0, rules: vec![rule(|r| r.share_429 = 1.5)] };
        assert!(bad.validate().is_err(), "a share above 1 is rejected");
        let sum = FaultConfig {
            seed: 0,
            rules: vec![rule(|r| {
                r.share_429 = 0.6;
                r.share_5xx = 0.6;
            })],
        };
        assert!(sum.validate().is_err(), "shares adding above 1 are rejected");
        assert!(FaultConfig::default().validate().is_ok(), "no rules is valid");
    }
}
