//! Bearer authentication, scopes and rate limiting of every API route (CRM and account info).
//!
//! Order per request: token check (missing/invalid/revoked → 401 `INVALID_AUTHENTICATION`,
//! expired → 401 `EXPIRED_AUTHENTICATION`), then the portal's rate limiter (429 with the §4.3
//! body), then the handler, which checks scopes (403 `MISSING_SCOPES`). Rate-limit headers are
//! added to every non-search response.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::errors::{rate_limit_body, ApiError, Policy};
use super::limits::{App, Usage};
use super::store::Source;
use super::HubSpot;

/// Scopes the simulated app is configured with (and private-app tokens hold).
pub const APP_SCOPES: &[&str] = &[
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
];

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Portal.
    pub hub_id: u64,
    /// User.
    pub user_id: u64,
    /// Granted scopes.
    pub scopes: Arc<Vec<String>>,
    /// `true` for the private-app token.
    pub private_app: bool,
    /// The history source of this caller's writes.
    pub source: Arc<Source>,
}

impl Auth {
    /// `true` when the scope was granted.
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// 403 `MISSING_SCOPES` unless one of `scopes` was granted.
    pub fn require_any(&self, scopes: &[&str]) -> Result<(), ApiError> {
        if scopes.iter().any(|s| self.has(s)) {
            Ok(())
        } else {
            Err(ApiError::missing_scopes(scopes))
        }
    }

    /// Whether sensitive property values may be read/written.
    pub fn sensitive_ok(&self) -> bool {
        self.has("crm.objects.contacts.sensitive.read")
            || self.has("crm.objects.contacts.sensitive.write")
    }
}

impl HubSpot {
    /// Checks a bearer token: the private-app token, or a signed, unexpired, unrevoked access token.
    ///
    /// # Errors
    /// 401 `INVALID_AUTHENTICATION` or `EXPIRED_AUTHENTICATION`.
    pub fn authenticate_token(&self, token: &str) -> Result<Auth, ApiError> {
        if token == self.private_token {
            return Ok(Auth {
                hub_id: self.portal_id(),
                user_id: self.user.id,
                scopes: Arc::new(APP_SCOPES.iter().map(|s| s.to_string()).collect()),
                private_app: true,
                source: self.private_source.clone(),
            });
        }
        let claims = self
            .keys
            .check(token)
            .filter(|c| c.k == 'a')
            .ok_or_else(ApiError::invalid_authentication)?;
        if self.oauth.lock().unwrap_or_else(|e| e.into_inner()).is_revoked(&claims) {
            return Err(ApiError::invalid_authentication());
        }
        let now = self.clock.now_ms();
        if claims.e <= now {
            return Err(ApiError::expired_authentication(now - claims.e));
        }
        Ok(Auth {
            hub_id: claims.h,
            user_id: claims.u,
            scopes: Arc::new(claims.s),
            private_app: false,
            source: self.app_source.clone(),
        })
    }
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .map(str::to_string)
}

impl HubSpot {
    /// The `X-HubSpot-RateLimit-*` headers of a 429 for the caller of a request with these
    /// headers, as the real limiter would send them: its app's window (Max, Interval, nothing
    /// Remaining) and, for a private-app token, the account's Daily pair. Empty when the token
    /// is missing or invalid (HubSpot answers 401 before limiting). Used by fault injection.
    pub fn exhausted_rate_headers(&self, headers: &HeaderMap) -> HeaderMap {
        let mut out = HeaderMap::new();
        let Some(Ok(auth)) = bearer(headers).map(|t| self.authenticate_token(&t)) else {
            return out;
        };
        let app = if auth.private_app { App::Private } else { App::OAuth };
        let portal = self.portal(auth.hub_id);
        let usage = portal.limiter.lock().unwrap_or_else(|e| e.into_inner()).peek(
            Instant::now(),
            app,
            self.quota(app),
        );
        Usage { remaining: 0, ..usage }.write(&mut out);
        out
    }
}

/// The kind of an API route, for stats and limits.
fn kind(method: &Method, path: &str) -> (&'static str, bool) {
    let write = *method != Method::GET;
    if path.starts_with("/account-info/") {
        return ("account", false);
    }
    if path.contains("/properties/") {
        let read = !write || path.ends_with("/batch/read");
        return if read { ("properties.read", false) } else { ("properties.write", true) };
    }
    if path.ends_with("/search") {
        return ("contacts.search", false);
    }
    if path.contains("/batch/") {
        return ("contacts.batch", !path.ends_with("/batch/read"));
    }
    if write {
        ("contacts.write", true)
    } else {
        ("contacts.read", false)
    }
}

/// Middleware of the authenticated routes.
pub async fn authenticate(
    State(hs): State<Arc<HubSpot>>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let (kind, write) = kind(req.method(), &path);
    let token = bearer(req.headers());
    let auth = match token.as_deref().map(|t| hs.authenticate_token(t)) {
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            hs.with_stats(|s| s.unauthorized += 1);
            return e.into_response();
        }
        None => {
            hs.with_stats(|s| s.unauthorized += 1);
            return ApiError::invalid_authentication().into_response();
        }
    };
    hs.with_stats(|s| *s.requests.entry(kind.to_string()).or_default() += 1);
    let portal = hs.portal(auth.hub_id);
    let now = Instant::now();
    let usage = if kind == "contacts.search" {
        let window = hs.clock.scaled(Duration::from_secs(1));
        let r = portal.limiter.lock().unwrap_or_else(|e| e.into_inner()).search(
            now,
            hs.search_per_s,
            window,
        );
        if let Err(policy) = r {
            hs.with_stats(|s| s.rate_limited_secondly += 1);
            return (StatusCode::TOO_MANY_REQUESTS, axum::Json(rate_limit_body(policy)))
                .into_response();
        }
        None
    } else {
        let app = if auth.private_app { App::Private } else { App::OAuth };
        let quota = hs.quota(app);
        let r = portal.limiter.lock().unwrap_or_else(|e| e.into_inner()).general(now, app, quota);
        match r {
            Ok(u) => Some(u),
            Err((policy, usage)) => {
                hs.with_stats(|s| match policy {
                    Policy::Daily => s.rate_limited_daily += 1,
                    _ => s.rate_limited_ten_secondly += 1,
                });
                let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(rate_limit_body(policy)))
                    .into_response();
                usage.write(resp.headers_mut());
                return resp;
            }
        }
    };
    req.extensions_mut().insert(auth);
    let mut resp = next.run(req).await;
    if write && resp.status().is_success() {
        hs.with_stats(|s| s.write_requests += 1);
    }
    if let Some(u) = usage {
        u.write(resp.headers_mut());
    }
    resp
}
