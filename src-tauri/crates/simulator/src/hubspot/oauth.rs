//! OAuth 2.0 (reference §1): the authorize/consent flow, the token endpoint (authorization-code
//! and refresh grants), introspection, revocation, the legacy v1 metadata endpoints and account
//! info.
//!
//! Choices where the reference is silent or open, documented here:
//! * Authorization codes live 10 minutes (scaled by the clock) and are single-use.
//! * Refresh tokens do NOT rotate: a refresh returns the same refresh token (§1.5, [3P]).
//! * Access tokens live 1800 s scaled by the clock; `expires_in` reports the scaled lifetime.
//! * PKCE: when the authorize URL carried `code_challenge` (S256 or plain), the code exchange
//!   must send the matching `code_verifier`; the client secret is still required (§1.4 [INF]).
//! * Deny: like HubSpot (§1.2, "no request is sent") the consent page just says the install was
//!   cancelled; [`HubSpot::set_redirect_on_deny`] switches to `redirect_uri?error=access_denied`.
//! * Token endpoints take parameters from an `application/x-www-form-urlencoded` body only; the
//!   legacy `/oauth/v1/token` also tolerates query parameters (§1.5).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{Auth, APP_SCOPES};
use super::consent_page;
use super::errors::{ApiError, OAuthError};
use super::tokens::{pkce_s256, Claims};
use super::HubSpot;

/// Lifetime of an access token as HubSpot documents it.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(1800);
/// Lifetime of an authorization code (not documented by HubSpot; 10 minutes).
pub const AUTH_CODE_LIFETIME: Duration = Duration::from_secs(600);

/// Scopes HubSpot knows (a subset); anything else is "unknown".
pub const KNOWN_SCOPES: &[&str] = &[
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.objects.contacts.sensitive.read",
    "crm.objects.contacts.sensitive.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
    "crm.lists.read",
    "crm.lists.write",
    "content",
    "forms",
    "tickets",
    "automation",
    "timeline",
    "e-commerce",
];

/// A pending authorization code.
#[derive(Debug, Clone)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    hub_id: u64,
    expires_ms: i64,
    challenge: Option<(String, String)>,
    used: bool,
}

/// In-memory OAuth state: codes and revocations.
#[derive(Debug, Default)]
pub struct OAuthState {
    codes: HashMap<String, AuthCode>,
    revoked_grants: HashSet<String>,
    revoked_tokens: HashSet<String>,
    issued_grants: HashSet<String>,
    revoked_before_ms: i64,
}

impl OAuthState {
    /// Whether a token was revoked (by itself, its grant, or a revoke-all).
    pub fn is_revoked(&self, c: &Claims) -> bool {
        c.i < self.revoked_before_ms
            || self.revoked_grants.contains(&c.g)
            || self.revoked_tokens.contains(&c.n)
    }

    /// Revokes everything issued so far.
    pub fn revoke_all(&mut self, now_ms: i64) {
        self.revoked_before_ms = now_ms;
        let grants: Vec<String> = self.issued_grants.drain().collect();
        self.revoked_grants.extend(grants);
    }
}

/// The token endpoint's success body (`AccessTokenResponse`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    /// `bearer`.
    pub token_type: String,
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Seconds until the access token expires (scaled).
    pub expires_in: u64,
    /// Portal id.
    pub hub_id: u64,
    /// User id.
    pub user_id: u64,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `access_token`.
    pub token_use: String,
}

impl HubSpot {
    fn random_id(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    fn access_lifetime_ms(&self) -> i64 {
        self.clock.scaled(ACCESS_TOKEN_LIFETIME).as_millis().max(1) as i64
    }

    fn access_token(&self, hub_id: u64, scopes: &[String], grant: &str) -> (String, u64) {
        let now = self.clock.now_ms();
        let claims = Claims {
            k: 'a',
            h: hub_id,
            u: self.user.id,
            s: scopes.to_vec(),
            i: now,
            e: now + self.access_lifetime_ms(),
            g: grant.to_string(),
            n: self.random_id(),
        };
        let expires_in =
            self.clock.scaled(ACCESS_TOKEN_LIFETIME).as_secs_f64().ceil().max(1.0) as u64;
        (self.keys.issue(&claims), expires_in)
    }

    /// Issues a new grant: an access token and a (non-rotating) refresh token.
    pub(crate) fn issue_token_pair(&self, hub_id: u64, scopes: &[String]) -> TokenResponse {
        let grant = self.random_id();
        self.oauth.lock().unwrap_or_else(|e| e.into_inner()).issued_grants.insert(grant.clone());
        let refresh = Claims {
            k: 'r',
            h: hub_id,
            u: self.user.id,
            s: scopes.to_vec(),
            i: self.clock.now_ms(),
            e: i64::MAX,
            g: grant.clone(),
            n: self.random_id(),
        };
        let (access_token, expires_in) = self.access_token(hub_id, scopes, &grant);
        TokenResponse {
            token_type: "bearer".into(),
            access_token,
            refresh_token: self.keys.issue(&refresh),
            expires_in,
            hub_id,
            user_id: self.user.id,
            scopes: scopes.to_vec(),
            token_use: "access_token".into(),
        }
    }

    fn check_client(
        &self,
        client_id: Option<&str>,
        client_secret: Option<&str>,
    ) -> Result<(), OAuthError> {
        if client_id != Some(self.app.client_id.as_str()) {
            return Err(OAuthError::new(
                "invalid_client",
                "BAD_CLIENT_ID",
                "missing or unknown client id",
            ));
        }
        if client_secret != Some(self.app.client_secret.as_str()) {
            return Err(OAuthError::new(
                "invalid_client",
                "BAD_CLIENT_SECRET",
                "missing or invalid client secret",
            ));
        }
        Ok(())
    }

    /// Validates an authorize request; `Err` is the message of the error page.
    fn check_authorize(
        &self,
        q: &HashMap<String, String>,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
        if client_id != self.app.client_id {
            return Err(format!(
                "Authorization failed because this app's client ID is not valid: {client_id:?}"
            ));
        }
        let redirect_uri = q.get("redirect_uri").map(String::as_str).unwrap_or("");
        if !self.app.redirect_uris.iter().any(|u| u == redirect_uri) {
            return Err(format!(
                "Authorization failed because the redirect URL {redirect_uri:?} doesn't match the app's registered redirect URL."
            ));
        }
        let scope = q.get("scope").map(String::as_str).unwrap_or("");
        let required: Vec<String> =
            scope.split([' ', '+']).filter(|s| !s.is_empty()).map(str::to_string).collect();
        if required.is_empty() {
            return Err("Authorization failed because no scope was requested.".into());
        }
        for s in &required {
            if !KNOWN_SCOPES.contains(&s.as_str()) {
                return Err(format!(
                    "Authorization failed because the scope {s:?} is not a valid scope."
                ));
            }
            if !APP_SCOPES.contains(&s.as_str()) {
                return Err(format!(
                    "Authorization failed because the scope {s:?} is not configured on this app's auth settings."
                ));
            }
        }
        let optional: Vec<String> = q
            .get("optional_scope")
            .map(|s| {
                s.split([' ', '+'])
                    .filter(|x| APP_SCOPES.contains(x) && !required.iter().any(|r| r == x))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(m) = q.get("code_challenge_method") {
            if m != "S256" && m != "plain" {
                return Err(format!("Unsupported code_challenge_method {m:?}"));
            }
        }
        Ok((required, optional))
    }
}

fn parse_query(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect()
}

/// A 302 Found redirect (what HubSpot's consent screen answers).
fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_string())]).into_response()
}

fn error_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(consent_page::error_page(message))).into_response()
}

/// `GET /oauth/authorize` and `/oauth/{accountId}/authorize`: the consent page or an error page.
async fn authorize(hs: &HubSpot, q: HashMap<String, String>, only: Option<u64>) -> Response {
    hs.with_stats(|s| *s.oauth_requests.entry("authorize".into()).or_default() += 1);
    if let Err(msg) = hs.check_authorize(&q) {
        return error_page(&msg);
    }
    let accounts: Vec<(u64, &str)> = hs
        .portals()
        .iter()
        .filter(|p| only.is_none_or(|o| o == p.id))
        .map(|p| (p.id, p.name.as_str()))
        .collect();
    if accounts.is_empty() {
        return error_page("You don't have access to this account.");
    }
    Html(consent_page::consent_page(&q, &accounts)).into_response()
}

async fn authorize_any(State(hs): State<Arc<HubSpot>>, RawQuery(raw): RawQuery) -> Response {
    authorize(&hs, parse_query(raw.as_deref()), None).await
}

async fn authorize_account(
    State(hs): State<Arc<HubSpot>>,
    Path(account): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Ok(id) = account.parse::<u64>() else {
        return error_page("Unknown account.");
    };
    authorize(&hs, parse_query(raw.as_deref()), Some(id)).await
}

/// `POST /oauth/authorize/decision`: the consent form's submit.
async fn decision(State(hs): State<Arc<HubSpot>>, body: Bytes) -> Response {
    let form = parse_query(std::str::from_utf8(&body).ok());
    let (required, optional) = match hs.check_authorize(&form) {
        Ok(s) => s,
        Err(msg) => return error_page(&msg),
    };
    let redirect_uri = form.get("redirect_uri").cloned().unwrap_or_default();
    let state = form.get("state").cloned();
    let with_state = |mut u: url::Url| {
        if let Some(s) = &state {
            u.query_pairs_mut().append_pair("state", s);
        }
        u
    };
    let Ok(target) = url::Url::parse(&redirect_uri) else {
        return error_page("Invalid redirect URL.");
    };
    if form.get("decision").map(String::as_str) != Some("grant") {
        if hs.redirect_on_deny() {
            let mut u = target;
            u.query_pairs_mut().append_pair("error", "access_denied");
            return found(with_state(u).as_str());
        }
        return Html(consent_page::declined_page()).into_response();
    }
    let Some(hub_id) = form
        .get("account")
        .and_then(|a| a.parse::<u64>().ok())
        .filter(|id| hs.portals().iter().any(|p| p.id == *id))
    else {
        return error_page("Please choose an account.");
    };
    let challenge = form.get("code_challenge").filter(|c| !c.is_empty()).map(|c| {
        (c.clone(), form.get("code_challenge_method").cloned().unwrap_or_else(|| "plain".into()))
    });
    let code = uuid::Uuid::new_v4().to_string();
    let expires_ms = hs.clock.now_ms() + hs.clock.scaled(AUTH_CODE_LIFETIME).as_millis() as i64;
    hs.oauth.lock().unwrap_or_else(|e| e.into_inner()).codes.insert(
        code.clone(),
        AuthCode {
            client_id: hs.app.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            scopes: required.into_iter().chain(optional).collect(),
            hub_id,
            expires_ms,
            challenge,
            used: false,
        },
    );
    let mut u = target;
    u.query_pairs_mut().append_pair("code", &code);
    found(with_state(u).as_str())
}

/// Reads token-endpoint parameters: form body only (plus the query for legacy v1).
fn token_params(
    headers: &HeaderMap,
    body: &Bytes,
    query: Option<&str>,
    legacy: bool,
) -> Result<HashMap<String, String>, OAuthError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut params = HashMap::new();
    if legacy {
        params = parse_query(query);
    }
    if !body.is_empty() {
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(OAuthError::new(
                "invalid_request",
                "BAD_REQUEST",
                "Content-Type must be application/x-www-form-urlencoded; parameters must be sent in the request body",
            ));
        }
        params.extend(parse_query(std::str::from_utf8(body).ok()));
    }
    if params.is_empty() {
        return Err(OAuthError::new(
            "invalid_request",
            "BAD_REQUEST",
            "missing parameters: send them as an application/x-www-form-urlencoded body",
        ));
    }
    Ok(params)
}

async fn token_impl(
    hs: &HubSpot,
    headers: HeaderMap,
    body: Bytes,
    query: Option<String>,
    legacy: bool,
) -> Result<Response, OAuthError> {
    hs.with_stats(|s| *s.oauth_requests.entry("token".into()).or_default() += 1);
    let p = token_params(&headers, &body, query.as_deref(), legacy)?;
    let get = |k: &str| p.get(k).map(String::as_str);
    match get("grant_type") {
        Some("authorization_code") => {
            hs.check_client(get("client_id"), get("client_secret"))?;
            let code = get("code").unwrap_or("");
            let mut st = hs.oauth.lock().unwrap_or_else(|e| e.into_inner());
            let Some(c) = st.codes.get_mut(code) else {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "BAD_AUTH_CODE",
                    "auth code not found",
                ));
            };
            if c.used {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "BAD_AUTH_CODE",
                    "auth code has already been used",
                ));
            }
            if c.expires_ms <= hs.clock.now_ms() {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "EXPIRED_AUTH_CODE",
                    "auth code is expired",
                ));
            }
            if c.client_id != hs.app.client_id {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "BAD_AUTH_CODE",
                    "auth code was issued to another client",
                ));
            }
            if get("redirect_uri") != Some(c.redirect_uri.as_str()) {
                return Err(OAuthError::new(
                    "invalid_grant",
                    "MISMATCH_REDIRECT_URI_AUTH_CODE",
                    "redirect URI does not match initial auth code URI",
                ));
            }
            if let Some((challenge, method)) = &c.challenge {
                let ok = match get("code_verifier") {
                    Some(v) if method == "S256" => pkce_s256(v) == *challenge,
                    Some(v) => v == challenge,
                    None => false,
                };
                if !ok {
                    return Err(OAuthError::new(
                        "invalid_grant",
                        "BAD_AUTH_CODE",
                        "code_verifier is missing or does not match the code_challenge",
                    ));
                }
            }
            c.used = true;
            let (hub, scopes) = (c.hub_id, c.scopes.clone());
            drop(st);
            hs.with_stats(|s| {
                *s.oauth_grants.entry("authorization_code".into()).or_default() += 1;
            });
            Ok(Json(hs.issue_token_pair(hub, &scopes)).into_response())
        }
        Some("refresh_token") => {
            hs.check_client(get("client_id"), get("client_secret"))?;
            let rt = get("refresh_token").unwrap_or("");
            let bad = || {
                OAuthError::new(
                    "invalid_grant",
                    "BAD_REFRESH_TOKEN",
                    "refresh token is invalid, expired or revoked",
                )
            };
            let claims = hs.keys.check(rt).filter(|c| c.k == 'r').ok_or_else(bad)?;
            if hs.oauth.lock().unwrap_or_else(|e| e.into_inner()).is_revoked(&claims) {
                return Err(bad());
            }
            let (access_token, expires_in) = hs.access_token(claims.h, &claims.s, &claims.g);
            hs.with_stats(|s| *s.oauth_grants.entry("refresh_token".into()).or_default() += 1);
            Ok(Json(TokenResponse {
                token_type: "bearer".into(),
                access_token,
                refresh_token: rt.to_string(),
                expires_in,
                hub_id: claims.h,
                user_id: claims.u,
                scopes: claims.s,
                token_use: "access_token".into(),
            })
            .into_response())
        }
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            "BAD_GRANT_TYPE",
            format!("unsupported grant_type {other:?}"),
        )),
        None => Err(OAuthError::new("invalid_request", "BAD_GRANT_TYPE", "missing grant_type")),
    }
}

async fn token(State(hs): State<Arc<HubSpot>>, headers: HeaderMap, body: Bytes) -> Response {
    token_impl(&hs, headers, body, None, false).await.unwrap_or_else(IntoResponse::into_response)
}

async fn token_v1(
    State(hs): State<Arc<HubSpot>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    token_impl(&hs, headers, body, q, true).await.unwrap_or_else(IntoResponse::into_response)
}

impl HubSpot {
    /// Token metadata (`None` when not a valid, active token).
    fn metadata(&self, token: &str) -> Option<(Claims, serde_json::Value)> {
        let claims = self.keys.check(token)?;
        if self.oauth.lock().unwrap_or_else(|e| e.into_inner()).is_revoked(&claims) {
            return None;
        }
        let now = self.clock.now_ms();
        if claims.k == 'a' && claims.e <= now {
            return None;
        }
        let portal = self.portal(claims.h);
        let mut v = json!({
            "token": token,
            "user": self.user.email,
            "hub_domain": portal.domain,
            "scopes": claims.s,
            "hub_id": claims.h,
            "app_id": self.app_id,
            "user_id": claims.u,
            "client_id": self.app.client_id,
            "is_private_distribution": false,
        });
        if claims.k == 'a' {
            v["expires_in"] = json!(((claims.e - now) / 1000).max(0));
            v["token_type"] = json!("access");
            v["signed_access_token"] = self.signed_access_token(&claims);
        } else {
            v["token_type"] = json!("refresh");
        }
        Some((claims, v))
    }
}

impl HubSpot {
    /// The `signed_access_token` object of an access token's metadata (hubspot-api.md §1.6
    /// lists it; its fields follow HubSpot's published answers). The signatures are derived
    /// from the token itself, so they are stable for one token and differ between tokens.
    fn signed_access_token(&self, claims: &Claims) -> serde_json::Value {
        use sha2::{Digest, Sha256};
        let digest = |what: &str| -> String {
            let mut h = Sha256::new();
            h.update(what.as_bytes());
            h.update(claims.n.as_bytes());
            URL_SAFE_NO_PAD.encode(&h.finalize()[..20])
        };
        json!({
            "expiresAt": claims.e,
            "scopes": URL_SAFE_NO_PAD.encode(claims.s.join(" ")),
            "hubId": claims.h,
            "userId": claims.u,
            "appId": self.app_id,
            "signature": digest("signature"),
            "scopeToScopeGroupPks": digest("scope-groups"),
            "newSignature": digest("new-signature"),
            "hublet": "na1",
            "trialScopes": "",
            "trialScopeToScopeGroupPks": "",
            "isUserLevel": false,
            "isPrivateDistribution": false,
        })
    }
}

async fn introspect(State(hs): State<Arc<HubSpot>>, headers: HeaderMap, body: Bytes) -> Response {
    hs.with_stats(|s| *s.oauth_requests.entry("introspect".into()).or_default() += 1);
    let p = match token_params(&headers, &body, None, false) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = hs.check_client(
        p.get("client_id").map(String::as_str),
        p.get("client_secret").map(String::as_str),
    ) {
        return e.into_response();
    }
    // The spec sends `token`; the prose guide sends access_token=/refresh_token= (§1.6): accept both.
    let token = p.get("token").or_else(|| p.get("access_token")).or_else(|| p.get("refresh_token"));
    match token.and_then(|t| hs.metadata(t)) {
        Some((claims, mut v)) => {
            let o = v.as_object_mut().expect("object");
            o.insert("active".into(), json!(true));
            o.insert(
                "token_use".into(),
                json!(if claims.k == 'a' { "access_token" } else { "refresh_token" }),
            );
            o.insert("token_type".into(), json!("Bearer"));
            Json(v).into_response()
        }
        None => Json(json!({"active": false})).into_response(),
    }
}

async fn revoke(State(hs): State<Arc<HubSpot>>, headers: HeaderMap, body: Bytes) -> Response {
    hs.with_stats(|s| *s.oauth_requests.entry("revoke".into()).or_default() += 1);
    let p = match token_params(&headers, &body, None, false) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = hs.check_client(
        p.get("client_id").map(String::as_str),
        p.get("client_secret").map(String::as_str),
    ) {
        return e.into_response();
    }
    if let Some(claims) = p.get("token").and_then(|t| hs.keys.check(t)) {
        let mut st = hs.oauth.lock().unwrap_or_else(|e| e.into_inner());
        if claims.k == 'r' {
            st.revoked_grants.insert(claims.g);
        } else {
            st.revoked_tokens.insert(claims.n);
        }
    }
    // RFC 7009: 200 whether or not the token was valid.
    StatusCode::OK.into_response()
}

async fn v1_access_token(State(hs): State<Arc<HubSpot>>, Path(token): Path<String>) -> Response {
    hs.with_stats(|s| *s.oauth_requests.entry("v1".into()).or_default() += 1);
    match hs.metadata(&token).filter(|(c, _)| c.k == 'a') {
        Some((_, mut v)) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("client_id");
            }
            Json(v).into_response()
        }
        None => {
            let mut e = OAuthError::new(
                "invalid_token",
                "BAD_ACCESS_TOKEN",
                "access token is invalid, expired or revoked",
            );
            e.http = StatusCode::NOT_FOUND;
            e.into_response()
        }
    }
}

async fn v1_refresh_token(State(hs): State<Arc<HubSpot>>, Path(token): Path<String>) -> Response {
    hs.with_stats(|s| *s.oauth_requests.entry("v1".into()).or_default() += 1);
    match hs.metadata(&token).filter(|(c, _)| c.k == 'r') {
        Some((_, v)) => Json(v).into_response(),
        None => {
            let mut e = OAuthError::new(
                "invalid_grant",
                "BAD_REFRESH_TOKEN",
                "refresh token is invalid, expired or revoked",
            );
            e.http = StatusCode::NOT_FOUND;
            e.into_response()
        }
    }
}

async fn v1_delete_refresh_token(
    State(hs): State<Arc<HubSpot>>,
    Path(token): Path<String>,
) -> Response {
    hs.with_stats(|s| *s.oauth_requests.entry("v1".into()).or_default() += 1);
    match hs.keys.check(&token).filter(|c| c.k == 'r') {
        Some(c) => {
            hs.oauth.lock().unwrap_or_else(|e| e.into_inner()).revoked_grants.insert(c.g);
            StatusCode::NO_CONTENT.into_response()
        }
        None => OAuthError::new(
            "invalid_grant",
            "BAD_REFRESH_TOKEN",
            "refresh token is invalid, expired or revoked",
        )
        .into_response(),
    }
}

/// `GET /account-info/{v3,2026-03}/details` (scope `oauth` for OAuth tokens).
pub async fn account_details(
    State(hs): State<Arc<HubSpot>>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, ApiError> {
    if !auth.private_app {
        auth.require_any(&["oauth"])?;
    }
    let main = auth.hub_id == hs.portal_id();
    Ok(Json(json!({
        "portalId": auth.hub_id,
        "accountType": if main { "STANDARD" } else { "DEVELOPER_TEST" },
        "timeZone": "Europe/Paris",
        "companyCurrency": "EUR",
        "additionalCurrencies": [],
        "utcOffset": "+01:00",
        "utcOffsetMilliseconds": 3_600_000,
        "uiDomain": "app-eu1.hubspot.com",
        "dataHostingLocation": "eu1",
    }))
    .into_response())
}

/// The OAuth routes (no bearer auth, not rate limited).
pub fn routes() -> axum::Router<Arc<HubSpot>> {
    axum::Router::new()
        .route("/oauth/authorize", get(authorize_any))
        .route("/oauth/{accountId}/authorize", get(authorize_account))
        .route("/oauth/authorize/decision", post(decision))
        .route("/oauth/2026-03/token", post(token))
        .route("/oauth/v3/token", post(token))
        .route("/oauth/v1/token", post(token_v1))
        .route("/oauth/2026-03/token/introspect", post(introspect))
        .route("/oauth/v3/token/introspect", post(introspect))
        .route("/oauth/2026-03/token/revoke", post(revoke))
        .route("/oauth/v3/token/revoke", post(revoke))
        .route("/oauth/v1/access-tokens/{token}", get(v1_access_token))
        .route(
            "/oauth/v1/refresh-tokens/{token}",
            get(v1_refresh_token).delete(v1_delete_refresh_token),
        )
}
