//! The simulated Didomi organization (didomi-api.md): sessions, PMP configuration, consent users
//! and events, the rate limit, and an admin route.
//!
//! Routes (all under `/v1`, as the reference advises; every route but `POST /v1/sessions` needs
//! `Authorization: Bearer <access_token>` and `?organization_id=<the seeded org>`):
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/sessions` | `200 {type, key, access_token}` (200, as Didomi's API description says); bad key/secret → 400 |
//! | `GET /v1/metadata/purposes[/{id}]` | `{total, limit, skip, data}` (`$limit` ≤ 100, `$skip`, `$translations`) |
//! | `GET /v1/preferences[/{id}]` | `{total, limit, skip, data}` |
//! | `GET /v1/config-trees` | an array with the organization's one tree |
//! | `GET /v1/consents/users` | `{data, limit, cursor}` (100 per page, `$cursor`, `organization_user_id` filter) |
//! | `GET /v1/consents/users/{id}` | a user; `$by_organization_user_id` makes `{id}` an OUID |
//! | `POST /v1/consents/events` | one event or an array of ≤ 100 → `200` with what was stored (200, as Didomi's API description says); `?$disable_integrations=true\|false` (and `$generate_tcfcs`) must be booleans, else 400 |
//! | `GET /_sim/didomi/stats` | counters (no auth, never faulted or limited, like every `/_sim/`) |
//! | `GET /_sim/didomi/users/{ouid}` | the user with that exact OUID, or 404 |
//! | `GET /_sim/didomi/events[?organization_user_id=]` | `{total, data: [`[`RecordedEvent`]`]}`: the last (≤ 1000) stored events, oldest first, each `{event, disable_integrations, source}`; only that user's with the filter |
//! | `POST /_sim/didomi/users/{ouid}/consents` | body: one `PurposeConsent`; a change "made in Didomi's UI" ([`Didomi::set_consent_as_user`]) |
//!
//! Errors are `{code, name, message, errors}`: 400 bad input, 401 missing/invalid/expired token,
//! 403 another organization (\[Inf\]: the reference gives no status), 404 unknown entity, 409 an
//! event id that exists, 429 rate limit. Non-consent routes (and `/consents/users*` with
//! `$include_full_tree`) share one window of `didomi_requests_per_15s` (100) per 15 s, scaled
//! by the time scale; their answers carry `RateLimit` and `RateLimit-Policy` headers.

pub mod auth;
pub mod config;
pub mod users;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::faults::{didomi_error, didomi_error_with};
pub use config::PmpConfig;
pub use users::{
    ConsentValue, EventSource, PurposeConsent, RecordedEvent, User, UserConsents, WriteOptions,
};

/// Page size of `GET /consents/users`.
pub const USERS_PAGE: usize = 100;

/// State of the simulated Didomi.
#[derive(Debug)]
pub struct Didomi {
    clock: crate::Clock,
    key: crate::DidomiApiKey,
    org: String,
    signer: auth::TokenSigner,
    limiter: auth::RateLimiter,
    users: users::Users,
    config: PmpConfig,
    sessions_created: AtomicU64,
    sessions_rejected: AtomicU64,
    unauthorized: AtomicU64,
    rate_limited: AtomicU64,
    api_requests: AtomicU64,
}

/// Counters of the simulated Didomi (`GET /_sim/didomi/stats`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DidomiStats {
    /// Users (seeded and created).
    pub users: u64,
    /// Users created by events.
    pub created_users: u64,
    /// Seeded users changed by events.
    pub modified_users: u64,
    /// Events accepted through the API.
    pub events_received: u64,
    /// Event writes rejected (400/409).
    pub events_rejected: u64,
    /// Events accepted with `$disable_integrations=true` (not forwarded to integrations).
    #[serde(default)]
    pub events_integrations_disabled: u64,
    /// Tokens minted.
    pub sessions_created: u64,
    /// `POST /sessions` refused.
    pub sessions_rejected: u64,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// Requests refused by the rate limiter (not by fault injection).
    pub rate_limited: u64,
    /// API requests received (every `/v1/…` route but `POST /v1/sessions`, which
    /// `sessions_created` counts), refused ones included: what request budgets are measured by.
    #[serde(default)]
    pub api_requests: u64,
}

fn derive(seed: u64, what: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"dhs-simulator didomi ");
    h.update(what.as_bytes());
    h.update(seed.to_le_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Didomi {
    /// Seeds an organization from the config: API key, organization id, configuration (names in
    /// `config.didomi_languages`), users.
    ///
    /// # Panics
    /// When `config.didomi_languages` is invalid ([`config::check_languages`];
    /// [`crate::start`] checks it first and returns an error instead).
    pub fn new(config: &crate::Config, clock: crate::Clock) -> Self {
        let key = crate::DidomiApiKey {
            key: format!("sim-key-{}", &derive(config.seed, "key")[..16]),
            secret: derive(config.seed, "secret")[..40].to_string(),
        };
        let org = format!("acme-{}", &derive(config.seed, "org")[..6]);
        let pmp = PmpConfig::seeded_in(&config.didomi_languages)
            .unwrap_or_else(|e| panic!("invalid simulator config: {e}"));
        let users = users::Users::new(config.seed, config.users, org.clone(), pmp.clone());
        if config.users > 50_000 {
            users.count_in_background();
        }
        Self {
            clock,
            key,
            signer: auth::TokenSigner::new(config.seed),
            limiter: auth::RateLimiter::new(
                config.didomi_requests_per_15s,
                clock.scaled(std::time::Duration::from_secs(15)),
                15,
            ),
            users,
            org,
            config: pmp,
            sessions_created: AtomicU64::new(0),
            sessions_rejected: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            api_requests: AtomicU64::new(0),
        }
    }

    /// The seeded API key.
    pub fn api_key(&self) -> crate::DidomiApiKey {
        self.key.clone()
    }

    /// The seeded organization id.
    pub fn organization_id(&self) -> String {
        self.org.clone()
    }

    /// The PMP configuration (purposes, preferences, tree).
    pub fn pmp_config(&self) -> &PmpConfig {
        &self.config
    }

    /// Mints an access token for the seeded key, as `POST /v1/sessions` would.
    pub fn mint_token(&self) -> String {
        let now = self.clock.now_ms();
        let exp_ms = now + self.clock.scaled(auth::TOKEN_LIFETIME).as_millis() as i64;
        self.signer.sign(&auth::Claims {
            sub: self.key.key.clone(),
            organization_id: self.org.clone(),
            iat: now / 1000,
            exp: (exp_ms + 999) / 1000,
            exp_ms,
            jti: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// The user whose `organization_user_id` is exactly `ouid`.
    pub fn user_by_organization_user_id(&self, ouid: &str) -> Option<User> {
        self.users.by_organization_user_id(ouid)
    }

    /// The user with Didomi id `id`.
    pub fn user_by_id(&self, id: &str) -> Option<User> {
        self.users.by_id(id)
    }

    /// Number of users (the first call is O(population)).
    pub fn user_count(&self) -> u64 {
        self.users.count()
    }

    /// Events accepted through `POST /v1/consents/events`.
    pub fn events_received(&self) -> u64 {
        self.users.stats().events_received
    }

    /// The last (≤ 1000) events stored, oldest first.
    pub fn recent_events(&self) -> Vec<Value> {
        self.users.recent_events()
    }

    /// The last (≤ 1000) events stored, oldest first, each with its `$disable_integrations` flag
    /// and source; only those of the user whose OUID is exactly `ouid`, when given.
    pub fn recorded_events(&self, ouid: Option<&str>) -> Vec<RecordedEvent> {
        self.users.recorded_events(ouid)
    }

    /// All counters.
    pub fn stats(&self) -> DidomiStats {
        let u = self.users.stats();
        DidomiStats {
            users: self.user_count(),
            created_users: u.created_users,
            modified_users: u.modified_users,
            events_received: u.events_received,
            events_rejected: u.events_rejected,
            events_integrations_disabled: u.events_integrations_disabled,
            sessions_created: self.sessions_created.load(Ordering::Relaxed),
            sessions_rejected: self.sessions_rejected.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            api_requests: self.api_requests.load(Ordering::Relaxed),
        }
    }

    /// A change made in Didomi's own UI for `ouid`, creating the user when there is none (at the
    /// end of the listing): merges `purposes` like a consent event.
    ///
    /// # Errors
    /// When the change is not valid for the configuration.
    pub fn console_change(
        &self,
        ouid: &str,
        purposes: Vec<PurposeConsent>,
    ) -> Result<User, String> {
        let event = json!({
            "user": { "organization_user_id": ouid },
            "consents": { "purposes": purposes },
            "metadata": { "source": "didomi-console" },
        });
        let opts = WriteOptions { source: EventSource::DidomiConsole, disable_integrations: false };
        self.users.post_events(&event, &self.org, opts).map_err(|e| e.message)?;
        self.user_by_organization_user_id(ouid).ok_or_else(|| "user vanished".to_string())
    }

    /// Removes the user `ouid` created through events (a user deleted in Didomi's console).
    pub fn remove_user(&self, ouid: &str) -> bool {
        self.users.remove(ouid)
    }

    /// Every user, in listing order (tests: the expectation side).
    pub fn all_users(&self) -> Vec<User> {
        let mut out = Vec::new();
        let mut from = Some(0);
        while let Some(f) = from {
            let (page, next) = self.users.page(f, 1000);
            out.extend(page);
            from = next;
        }
        out
    }

    /// A change made in Didomi's own UI: merges `change` into the existing user `ouid` like a
    /// consent event (validated the same way, recorded with `metadata.source = "didomi-console"`,
    /// not counted in [`Didomi::events_received`]).
    ///
    /// # Errors
    /// When the user does not exist or the change is not valid for the configuration.
    pub fn set_consent_as_user(&self, ouid: &str, change: PurposeConsent) -> Result<User, String> {
        if self.user_by_organization_user_id(ouid).is_none() {
            return Err(format!("no user with organization_user_id {ouid:?}"));
        }
        let event = json!({
            "user": { "organization_user_id": ouid },
            "consents": { "purposes": [change] },
            "metadata": { "source": "didomi-console" },
        });
        let opts = WriteOptions { source: EventSource::DidomiConsole, disable_integrations: false };
        self.users.post_events(&event, &self.org, opts).map_err(|e| e.message)?;
        self.user_by_organization_user_id(ouid).ok_or_else(|| "user vanished".to_string())
    }

    fn authorize(&self, headers: &HeaderMap, q: &Query) -> Result<(), ApiError> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
        let unauthorized = |msg: &str| {
            self.unauthorized.fetch_add(1, Ordering::Relaxed);
            Err(ApiError(StatusCode::UNAUTHORIZED, msg.to_string()))
        };
        let Some(token) = token else {
            return unauthorized("No auth token");
        };
        let claims = match self.signer.verify(token.trim(), self.clock.now_ms()) {
            Ok(c) => c,
            Err(auth::TokenError::Expired) => return unauthorized("jwt expired"),
            Err(auth::TokenError::Invalid) => return unauthorized("invalid token"),
        };
        if claims.sub != self.key.key {
            return unauthorized("invalid token");
        }
        match q.get("organization_id") {
            None | Some("") => Err(bad("organization_id is required")),
            Some(o) if o == claims.organization_id && o == self.org => Ok(()),
            Some(o) => Err(ApiError(
                StatusCode::FORBIDDEN,
                format!("You do not have access to the organization {o}"),
            )),
        }
    }
}

/// A Didomi error to answer with (`{code, name, message, errors}`).
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        didomi_error(self.0, &self.1)
    }
}

fn bad(msg: &str) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.to_string())
}

/// The decoded query string (repeated keys kept in order).
#[derive(Debug)]
struct Query(Vec<(String, String)>);

impl Query {
    fn of(uri: &Uri) -> Self {
        Self(
            url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
    fn has(&self, k: &str) -> bool {
        self.0.iter().any(|(key, _)| key == k)
    }
    fn flag(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| v.is_empty() || v == "true" || v == "1")
    }
    /// A boolean query parameter written `k=true` or `k=false` (absent: `false`); any other
    /// value, or the name without a value, is a 400 (the reference shows `k=true`).
    fn boolean(&self, k: &str) -> Result<bool, ApiError> {
        let mut out = false;
        for (key, v) in self.0.iter().filter(|(key, _)| key == k) {
            out = match v.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(bad(&format!("{key} must be true or false, not {v:?}"))),
            };
        }
        Ok(out)
    }
}

/// The Didomi routes (with the rate limiter).
pub fn router(state: Arc<Didomi>) -> Router {
    Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/metadata/purposes", get(list_purposes))
        .route("/v1/metadata/purposes/{id}", get(get_purpose))
        .route("/v1/preferences", get(list_preferences))
        .route("/v1/preferences/{id}", get(get_preference))
        .route("/v1/config-trees", get(config_trees))
        .route("/v1/consents/users", get(list_users))
        .route("/v1/consents/users/{id}", get(get_user))
        .route("/v1/consents/events", post(post_events))
        .route("/_sim/didomi/stats", get(sim_stats))
        .route("/_sim/didomi/users/{ouid}", get(sim_user))
        .route("/_sim/didomi/events", get(sim_events))
        .route("/_sim/didomi/users/{ouid}/consents", post(sim_set_consent))
        .fallback(|| async { didomi_error(StatusCode::NOT_FOUND, "Page not found") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit))
        .with_state(state)
}

async fn rate_limit(State(d): State<Arc<Didomi>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/v1/") && path != "/v1/sessions" {
        d.api_requests.fetch_add(1, Ordering::Relaxed);
    }
    let q = Query::of(req.uri());
    let limited = !path.starts_with("/_sim/")
        && (!path.starts_with("/v1/consents/")
            || (path.starts_with("/v1/consents/users") && q.flag("$include_full_tree")));
    if !limited {
        return next.run(req).await;
    }
    let decision = d.limiter.check();
    if !decision.allowed {
        d.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut res = didomi_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
        res.headers_mut().extend(d.rate_headers(decision));
        return res;
    }
    let mut res = next.run(req).await;
    let mut headers = d.rate_headers(decision);
    headers.remove(axum::http::header::RETRY_AFTER);
    res.headers_mut().extend(headers);
    res
}

impl Didomi {
    /// `RateLimit`, `RateLimit-Policy` and (for a refusal) `Retry-After` of a decision.
    fn rate_headers(&self, decision: auth::RateDecision) -> HeaderMap {
        let window = self.limiter.nominal_window_s();
        let mut h = HeaderMap::new();
        let v = format!(
            "limit={}, remaining={}, reset={}",
            decision.limit, decision.remaining, decision.reset_s
        );
        h.insert("RateLimit", HeaderValue::from_str(&v).expect("ascii"));
        h.insert(
            "RateLimit-Policy",
            HeaderValue::from_str(&format!("{};w={window}", decision.limit)).expect("ascii"),
        );
        h.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(decision.reset_s));
        h
    }

    /// The headers of a 429 as the organization's real limiter would send it (its limit, its
    /// window's reset). Used by fault injection.
    pub fn exhausted_rate_headers(&self) -> HeaderMap {
        self.rate_headers(self.limiter.exhausted())
    }
}

fn bad_request(msg: &str) -> Response {
    didomi_error(StatusCode::BAD_REQUEST, msg)
}

async fn create_session(State(d): State<Arc<Didomi>>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ok = v.get("type").and_then(Value::as_str) == Some("api-key")
        && v.get("key").and_then(Value::as_str) == Some(d.key.key.as_str())
        && v.get("secret").and_then(Value::as_str) == Some(d.key.secret.as_str());
    if !ok {
        d.sessions_rejected.fetch_add(1, Ordering::Relaxed);
        return bad_request("Invalid authentication information");
    }
    d.sessions_created.fetch_add(1, Ordering::Relaxed);
    let token = d.mint_token();
    (StatusCode::OK, Json(json!({ "type": "api-key", "key": d.key.key, "access_token": token })))
        .into_response()
}

/// `$limit` (default and max 100) and `$skip` of a generic list.
fn paging(q: &Query) -> Result<(usize, usize), ApiError> {
    let num = |k: &str, default: usize| match q.get(k) {
        None => Ok(default),
        Some(s) => {
            s.parse::<usize>().map_err(|_| bad(&format!("{k} must be a non-negative integer")))
        }
    };
    Ok((num("$limit", 100)?.min(100), num("$skip", 0)?))
}

fn paged(all: Vec<Value>, limit: usize, skip: usize) -> Response {
    let total = all.len();
    let data: Vec<Value> = all.into_iter().skip(skip).take(limit).collect();
    Json(json!({ "total": total, "limit": limit, "skip": skip, "data": data })).into_response()
}

async fn list_purposes(State(d): State<Arc<Didomi>>, uri: Uri, headers: HeaderMap) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q) {
        return r.into_response();
    }
    let (limit, skip) = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let tr = q.flag("$translations");
    let all = d.config.purposes.iter().map(|p| d.config.purpose_json(p, &d.org, tr)).collect();
    paged(all, limit, skip)
}

async fn get_purpose(
    State(d): State<Arc<Didomi>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q) {
        return r.into_response();
    }
    match d.config.purpose(&id) {
        Some((_, p)) => {
            Json(d.config.purpose_json(p, &d.org, q.flag("$translations"))).into_response()
        }
        None => didomi_error(StatusCode::NOT_FOUND, &format!("No record found for id '{id}'")),
    }
}

async fn list_preferences(State(d): State<Arc<Didomi>>, uri: Uri, headers: HeaderMap) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q) {
        return r.into_response();
    }
    let (limit, skip) = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let all = d.config.preferences.iter().map(|p| d.config.preference_json(p, &d.org)).collect();
    paged(all, limit, skip)
}

async fn get_preference(
    State(d): State<Arc<Didomi>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q) {
        return r.into_response();
    }
    match d.config.preference(&id) {
        Some(p) => Json(d.config.preference_json(p, &d.org)).into_response(),
        None => didomi_error(StatusCode::NOT_FOUND, &format!("No record found for id '{id}'")),
    }
}

async fn config_trees(State(d): State<Arc<Didomi>>, uri: Uri, headers: HeaderMap) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q) {
        return r.into_response();
    }
    Json(d.config.tree_json(&d.org)).into_response()
}

fn encode_cursor(slot: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("u1:{slot}"))
}

fn decode_cursor(c: &str) -> Option<u64> {
    let raw = URL_SAFE_NO_PAD.decode(c).ok()?;
    std::str::from_utf8(&raw).ok()?.strip_prefix("u1:")?.parse().ok()
}

fn regulation_ok(q: &Query) -> Result<(), ApiError> {
    match q.get("regulation") {
        None | Some("gdpr") => Ok(()),
        Some(_) => Err(bad("Only the gdpr regulation is simulated")),
    }
}

async fn list_users(State(d): State<Arc<Didomi>>, uri: Uri, headers: HeaderMap) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q).and_then(|()| regulation_ok(&q)) {
        return r.into_response();
    }
    if q.flag("$include_full_tree") {
        return didomi_error(StatusCode::NOT_IMPLEMENTED, "$include_full_tree is not simulated");
    }
    if let Some(ouid) = q.get("organization_user_id") {
        let data: Vec<User> = d.users.by_organization_user_id(ouid).into_iter().collect();
        return Json(UsersPage { cursor: None, data, limit: USERS_PAGE }).into_response();
    }
    let from = match q.get("$cursor") {
        None | Some("") => 0,
        Some(c) => match decode_cursor(c) {
            Some(s) => s,
            None => return bad_request("Invalid $cursor"),
        },
    };
    let (data, next) = d.users.page(from, USERS_PAGE);
    Json(UsersPage { cursor: next.map(encode_cursor), data, limit: USERS_PAGE }).into_response()
}

/// A page of `GET /consents/users`, serialized as it is (not through a `Value`, which would
/// build every user's tree of maps again for each page).
#[derive(serde::Serialize)]
struct UsersPage {
    cursor: Option<String>,
    data: Vec<User>,
    limit: usize,
}

async fn get_user(
    State(d): State<Arc<Didomi>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q).and_then(|()| regulation_ok(&q)) {
        return r.into_response();
    }
    if q.flag("$include_full_tree") {
        return didomi_error(StatusCode::NOT_IMPLEMENTED, "$include_full_tree is not simulated");
    }
    let user = if q.has("$by_organization_user_id") {
        d.users.by_organization_user_id(&id)
    } else {
        d.users.by_id(&id)
    };
    match user {
        Some(u) => Json(u).into_response(),
        None => didomi_error(StatusCode::NOT_FOUND, &format!("No record found for id '{id}'")),
    }
}

async fn post_events(
    State(d): State<Arc<Didomi>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let q = Query::of(&uri);
    if let Err(r) = d.authorize(&headers, &q) {
        return r.into_response();
    }
    let flags = q.boolean("$disable_integrations").and_then(|di| {
        q.boolean("$generate_tcfcs")?;
        Ok(di)
    });
    let disable_integrations = match flags {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("Invalid JSON body: {e}")),
    };
    let opts = WriteOptions { source: EventSource::Api, disable_integrations };
    match d.users.post_events(&v, &d.org, opts) {
        Ok(stored) => (StatusCode::OK, Json(stored)).into_response(),
        Err(e) => didomi_error_with(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            &e.message,
            Value::Object(e.errors),
        ),
    }
}

async fn sim_stats(State(d): State<Arc<Didomi>>) -> Json<DidomiStats> {
    // The first call counts the seeded users (O(population)); keep it off the async workers.
    let d2 = d.clone();
    let stats = tokio::task::spawn_blocking(move || d2.stats()).await.unwrap_or_else(|_| d.stats());
    Json(stats)
}

async fn sim_user(State(d): State<Arc<Didomi>>, Path(ouid): Path<String>) -> Response {
    match d.user_by_organization_user_id(&ouid) {
        Some(u) => Json(u).into_response(),
        None => didomi_error(StatusCode::NOT_FOUND, &format!("No user {ouid:?}")),
    }
}

async fn sim_events(State(d): State<Arc<Didomi>>, uri: Uri) -> Response {
    let q = Query::of(&uri);
    let data = d.recorded_events(q.get("organization_user_id"));
    Json(json!({ "total": data.len(), "data": data })).into_response()
}

async fn sim_set_consent(
    State(d): State<Arc<Didomi>>,
    Path(ouid): Path<String>,
    body: Bytes,
) -> Response {
    let change: PurposeConsent = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad(&format!("Expected one purpose consent: {e}")).into_response(),
    };
    match d.set_consent_as_user(&ouid, change) {
        Ok(u) => Json(u).into_response(),
        Err(e) => bad(&e).into_response(),
    }
}
