//! The typed HubSpot HTTP client: base URL + bearer auth + error parsing.
//!
//! Auth is either a static bearer (private-app token / service key) or an OAuth session whose
//! access token is refreshed a margin before `expires_in` runs out (min(60 s, 10 % of the
//! lifetime)), and once more when a call answers 401 (then the call is retried once). Refreshes
//! are single-flight: the token state sits behind a `tokio::sync::Mutex`, so N concurrent calls
//! finding the token expired cause ONE refresh. The refresh token returned last is always kept.
//! `invalid_grant`/`BAD_REFRESH_TOKEN` marks the session "reconnect needed".
//!
//! Every answer's `X-HubSpot-RateLimit-*` headers (reference §4.2; success or error) are kept as
//! the client's latest [`RateLimitSnapshot`], read with [`HubSpotClient::rate_limits`]: the sync's
//! pacer follows them, and a run stops before the account's daily allowance runs out.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::environment::endpoint;
use crate::error::ErrorCode;
use crate::hubspot::error::{Error, Result};
use crate::hubspot::models::ApiErrorBody;
use crate::hubspot::oauth::{OAuthApp, Tokens};
use crate::secrets::{Secret, SecretKey, SecretStore};

/// Access-token lifetime assumed when HubSpot sends no `expires_in` (its documented 30 min).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Called after every successful refresh with the new expiry (to persist it in settings).
pub type RefreshHook = Box<dyn Fn(SystemTime) + Send + Sync>;

/// HubSpot's rate-limit headers on one answer (reference §4.2). Absent headers are `None`:
/// search answers carry none (they are not recorded), OAuth answers no daily pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    /// `X-HubSpot-RateLimit-Max`: requests allowed per interval for this app.
    pub max: Option<u32>,
    /// `X-HubSpot-RateLimit-Remaining`: requests left in the current interval.
    pub remaining: Option<u32>,
    /// `X-HubSpot-RateLimit-Interval-Milliseconds`: the rolling window (10 s).
    pub interval: Option<Duration>,
    /// `X-HubSpot-RateLimit-Daily`: the account's daily allowance (private apps only).
    pub daily: Option<u64>,
    /// `X-HubSpot-RateLimit-Daily-Remaining`: daily calls left (private apps only).
    pub daily_remaining: Option<u64>,
    /// HTTP status of the answer (a 429's `Remaining` is 0 by definition).
    pub status: u16,
    /// When the answer arrived.
    pub seen_at: tokio::time::Instant,
}

/// Daily calls a run leaves unused: 1 % of the account's allowance, at least 1,000 (and never
/// more than the allowance). The daily allowance is shared by every private app of the account
/// (§4.1), so a push or pull that stops here leaves the account's other integrations room for
/// their own traffic until the reset: 2,500 calls on Free/Starter (250,000 a day), 6,250 on
/// Professional, 10,000 on Enterprise — hours of a typical integration's polling, while costing
/// our run only minutes of its own budget. The floor keeps a usable reserve if HubSpot ever
/// states a small allowance.
pub fn daily_reserve(daily: u64) -> u64 {
    (daily / 100).max(1000).min(daily)
}

impl RateLimitSnapshot {
    /// The rate-limit headers of an answer; `None` when it carried none (search, OAuth token
    /// endpoints, a proxy's error page).
    pub fn from_headers(
        headers: &reqwest::header::HeaderMap,
        status: u16,
        seen_at: tokio::time::Instant,
    ) -> Option<Self> {
        fn num<T: std::str::FromStr>(h: &reqwest::header::HeaderMap, name: &str) -> Option<T> {
            h.get(name)?.to_str().ok()?.trim().parse().ok()
        }
        let s = Self {
            max: num(headers, "x-hubspot-ratelimit-max"),
            remaining: num(headers, "x-hubspot-ratelimit-remaining"),
            interval: num::<u64>(headers, "x-hubspot-ratelimit-interval-milliseconds")
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis),
            daily: num(headers, "x-hubspot-ratelimit-daily"),
            daily_remaining: num(headers, "x-hubspot-ratelimit-daily-remaining"),
            status,
            seen_at,
        };
        let any = s.max.is_some()
            || s.remaining.is_some()
            || s.interval.is_some()
            || s.daily.is_some()
            || s.daily_remaining.is_some();
        any.then_some(s)
    }

    /// `Some((left, allowance))` when the daily calls left are below [`daily_reserve`]: time to
    /// stop before the account's allowance runs out.
    pub fn daily_below_reserve(&self) -> Option<(u64, u64)> {
        let (daily, left) = (self.daily?, self.daily_remaining?);
        (left < daily_reserve(daily)).then_some((left, daily))
    }
}

/// Counters, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshStats {
    /// Refresh grants attempted.
    pub refreshes: u64,
}

struct TokenState {
    access: Option<Secret>,
    expires_at: Option<SystemTime>,
    lifetime: Duration,
    refresh: Secret,
    generation: u64,
}

impl TokenState {
    fn fresh_access(&self) -> Option<&Secret> {
        let access = self.access.as_ref()?;
        let expires_at = self.expires_at?;
        let margin = (self.lifetime / 10).min(Duration::from_secs(60));
        (SystemTime::now() + margin < expires_at).then_some(access)
    }
}

/// An OAuth session: the app credentials, the tokens, and the refresh logic.
pub struct OAuthSession {
    app: OAuthApp,
    http: reqwest::Client,
    secrets: SecretStore,
    state: tokio::sync::Mutex<TokenState>,
    refreshes: AtomicU64,
    reconnect_needed: AtomicBool,
    on_refresh: Option<RefreshHook>,
}

impl fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSession")
            .field("client_id", &self.app.client_id)
            .finish_non_exhaustive()
    }
}

impl OAuthSession {
    /// A session from stored tokens. `expires_at = None` forces a refresh before the first call.
    pub fn new(
        app: OAuthApp,
        http: reqwest::Client,
        secrets: SecretStore,
        access: Option<Secret>,
        expires_at: Option<SystemTime>,
        refresh: Secret,
        on_refresh: Option<RefreshHook>,
    ) -> Self {
        Self {
            app,
            http,
            secrets,
            state: tokio::sync::Mutex::new(TokenState {
                access,
                expires_at,
                lifetime: DEFAULT_LIFETIME,
                refresh,
                generation: 0,
            }),
            refreshes: AtomicU64::new(0),
            reconnect_needed: AtomicBool::new(false),
            on_refresh,
        }
    }

    /// A session from a fresh token response (install).
    pub fn from_tokens(
        app: OAuthApp,
        http: reqwest::Client,
        secrets: SecretStore,
        tokens: &Tokens,
        on_refresh: Option<RefreshHook>,
    ) -> Result<Self> {
        let refresh = tokens
            .refresh_token
            .clone()
            .ok_or_else(|| Error::Other("HubSpot returned no refresh token".into()))?;
        let lifetime = tokens.expires_in.unwrap_or(DEFAULT_LIFETIME);
        let s = Self::new(
            app,
            http,
            secrets,
            Some(tokens.access_token.clone()),
            Some(SystemTime::now() + lifetime),
            refresh,
            on_refresh,
        );
        s.state.try_lock().expect("new mutex").lifetime = lifetime;
        Ok(s)
    }

    /// The app credentials.
    pub fn app(&self) -> &OAuthApp {
        &self.app
    }

    /// When the current access token expires.
    pub async fn expires_at(&self) -> Option<SystemTime> {
        self.state.lock().await.expires_at
    }

    /// The current refresh token (for revocation).
    pub async fn refresh_token(&self) -> Secret {
        self.state.lock().await.refresh.clone()
    }

    /// The current access token (for introspection).
    pub async fn access_token(&self) -> Result<Secret> {
        Ok(self.bearer().await?.0)
    }

    async fn bearer(&self) -> Result<(Secret, u64)> {
        let mut st = self.state.lock().await;
        if let Some(a) = st.fresh_access() {
            return Ok((a.clone(), st.generation));
        }
        self.refresh_locked(&mut st).await?;
        Ok((st.access.clone().expect("set by refresh"), st.generation))
    }

    /// After a 401 with the token of `generation`: refresh unless another call already did.
    async fn after_unauthorized(&self, generation: u64) -> Result<Secret> {
        let mut st = self.state.lock().await;
        if st.generation != generation {
            if let Some(a) = st.fresh_access() {
                return Ok(a.clone());
            }
        }
        self.refresh_locked(&mut st).await?;
        Ok(st.access.clone().expect("set by refresh"))
    }

    async fn refresh_locked(&self, st: &mut TokenState) -> Result<()> {
        if self.reconnect_needed.load(Ordering::SeqCst) {
            return Err(Error::ReconnectNeeded("an earlier refresh was refused".into()));
        }
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        tracing::debug!("refreshing the HubSpot access token");
        let tokens = match self.app.refresh(&self.http, &st.refresh).await {
            Ok(t) => t,
            Err(e) if e.code() == ErrorCode::HubSpotReconnectNeeded => {
                self.reconnect_needed.store(true, Ordering::SeqCst);
                tracing::warn!(error = %e, "HubSpot refused the refresh token; reconnect needed");
                return Err(Error::ReconnectNeeded(e.to_string()));
            }
            Err(e) => return Err(e),
        };
        let lifetime = tokens.expires_in.unwrap_or(DEFAULT_LIFETIME);
        let expires_at = SystemTime::now() + lifetime;
        self.secrets.set(SecretKey::HubSpotAccessToken, &tokens.access_token).await?;
        if let Some(r) = &tokens.refresh_token {
            self.secrets.set(SecretKey::HubSpotRefreshToken, r).await?;
            st.refresh = r.clone();
        }
        st.access = Some(tokens.access_token);
        st.expires_at = Some(expires_at);
        st.lifetime = lifetime;
        st.generation += 1;
        if let Some(hook) = &self.on_refresh {
            hook(expires_at);
        }
        Ok(())
    }
}

enum Auth {
    Static(Secret),
    OAuth(Arc<OAuthSession>),
}

/// The HubSpot API client.
pub struct HubSpotClient {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
    rate_limits: std::sync::Mutex<Option<RateLimitSnapshot>>,
    retry: crate::run::retry::Backoff,
}

impl fmt::Debug for HubSpotClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.auth {
            Auth::Static(_) => "static",
            Auth::OAuth(_) => "oauth",
        };
        f.debug_struct("HubSpotClient")
            .field("base", &self.base.as_str())
            .field("auth", &kind)
            .finish()
    }
}

/// A `reqwest` client suitable for HubSpot and Didomi calls: no redirects followed (a redirect
/// would resend credentials), bounded timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("didomi-hubspot-sync/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("static reqwest configuration")
}

impl HubSpotClient {
    /// A client with a static bearer (private-app token or service key).
    pub fn with_token(http: reqwest::Client, base: Url, token: Secret) -> Self {
        Self {
            http,
            base,
            auth: Auth::Static(token),
            rate_limits: Default::default(),
            retry: Default::default(),
        }
    }

    /// A client over an OAuth session.
    pub fn with_oauth(http: reqwest::Client, base: Url, session: Arc<OAuthSession>) -> Self {
        Self {
            http,
            base,
            auth: Auth::OAuth(session),
            rate_limits: Default::default(),
            retry: Default::default(),
        }
    }

    /// The same client retrying transient failures by `retry` (429 after `Retry-After` or a
    /// backoff, 5xx, dropped connections, malformed answers). The paced batch and search calls
    /// of the push and the pull are not retried here: their engines pause the shared pacer.
    #[must_use]
    pub fn with_retry(mut self, retry: crate::run::retry::Backoff) -> Self {
        self.retry = retry;
        self
    }

    /// The rate-limit headers of the latest answer that carried any (see [`RateLimitSnapshot`]).
    pub fn rate_limits(&self) -> Option<RateLimitSnapshot> {
        *self.rate_limits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the rate-limit headers of `response`, unless an answer that arrived later is already
    /// kept (concurrent calls).
    fn record_rate_limits(&self, response: &reqwest::Response) {
        let now = tokio::time::Instant::now();
        let Some(s) =
            RateLimitSnapshot::from_headers(response.headers(), response.status().as_u16(), now)
        else {
            return;
        };
        let mut kept = self.rate_limits.lock().unwrap_or_else(|p| p.into_inner());
        if kept.is_none_or(|k| k.seen_at <= s.seen_at) {
            *kept = Some(s);
        }
    }

    /// The OAuth session, if any.
    pub fn oauth(&self) -> Option<&Arc<OAuthSession>> {
        match &self.auth {
            Auth::OAuth(s) => Some(s),
            Auth::Static(_) => None,
        }
    }

    /// Refresh counters.
    pub fn refresh_stats(&self) -> RefreshStats {
        match &self.auth {
            Auth::OAuth(s) => RefreshStats { refreshes: s.refreshes.load(Ordering::SeqCst) },
            Auth::Static(_) => RefreshStats::default(),
        }
    }

    /// True once HubSpot refused the refresh token.
    pub fn reconnect_needed(&self) -> bool {
        matches!(&self.auth, Auth::OAuth(s) if s.reconnect_needed.load(Ordering::SeqCst))
    }

    /// `GET path?query` → `T`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T> {
        self.send(Method::GET, path, query, None::<&()>).await
    }

    /// `POST path` with a JSON body → `T`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(Method::POST, path, &[], Some(body)).await
    }

    /// `PATCH path` with a JSON body → `T`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn patch<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(Method::PATCH, path, &[], Some(body)).await
    }

    /// Any method, with the client's retries; an empty success body decodes as JSON `null` (so
    /// `T = ()` works for 204). When the retries run out, [`Error::Exhausted`] names the call.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T> {
        crate::run::retry::retry(&self.retry, Error::verdict, || {
            self.send_once(method.clone(), path, query, body)
        })
        .await
        .map_err(|g| Error::gave_up(format!("{method} {path}"), g))
    }

    /// `POST path` once, without retries (the engines' paced calls).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn post_once<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send_once(Method::POST, path, &[], Some(body)).await
    }

    /// One call, without retries.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn send_once<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T> {
        let url = endpoint(&self.base, path);
        let (token, generation) = match &self.auth {
            Auth::Static(t) => (t.clone(), 0),
            Auth::OAuth(s) => s.bearer().await?,
        };
        let build = |token: &Secret| {
            let mut rb = self.http.request(method.clone(), url.clone()).bearer_auth(token.expose());
            if !query.is_empty() {
                rb = rb.query(query);
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            rb
        };
        let mut response = build(&token).send().await?;
        self.record_rate_limits(&response);
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            if let Auth::OAuth(s) = &self.auth {
                tracing::debug!(%path, "401 from HubSpot; refreshing once and retrying");
                let token = s.after_unauthorized(generation).await?;
                response = build(&token).send().await?;
                self.record_rate_limits(&response);
            }
        }
        decode(response).await
    }
}

/// Turns a response into `T` or a classified [`Error`].
pub(crate) async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let status = response.status();
    let retry_after = crate::run::retry::retry_after(response.headers());
    let bytes = response.bytes().await?;
    if !status.is_success() {
        let body: ApiErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| ApiErrorBody {
            message: Some(truncate(&String::from_utf8_lossy(&bytes), 300)),
            ..Default::default()
        });
        return Err(Error::Api { status: status.as_u16(), body: Box::new(body), retry_after });
    }
    let slice: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
    // The plain decoder first (see the Didomi client's `decode`): the path is only needed to
    // name where a body that failed is wrong.
    if let Ok(value) = serde_json::from_slice(slice) {
        return Ok(value);
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(slice)).map_err(
        |e| Error::Decode {
            path: e.path().to_string(),
            message: e.inner().to_string(),
            body: truncate(&String::from_utf8_lossy(&bytes), 4000),
        },
    )
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_that_fails_names_where_it_is_wrong() {
        #[derive(Debug, serde::Deserialize)]
        struct Batch {
            results: Vec<Row>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Row {
            id: String,
        }
        let response = |b: &str| reqwest::Response::from(http::Response::new(b.to_owned()));
        let ok: Batch = decode(response(r#"{"results":[{"id":"1"}]}"#)).await.expect("decodes");
        assert_eq!(ok.results[0].id, "1");
        match decode::<Batch>(response(r#"{"results":[{"id":"1"},{"id":false}]}"#)).await {
            Err(Error::Decode { path, message, .. }) => {
                assert_eq!(path, "results[1].id", "the path of the wrong value");
                assert!(message.contains("expected a string"), "{message}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn refresh_margin_is_min_of_60s_and_10_percent() {
        let mk = |left: Duration, lifetime: Duration| TokenState {
            access: Some("a".into()),
            expires_at: Some(SystemTime::now() + left),
            lifetime,
            refresh: "r".into(),
            generation: 0,
        };
        let long = Duration::from_secs(1800);
        assert!(mk(Duration::from_secs(120), long).fresh_access().is_some(), "2 min left: fresh");
        assert!(mk(Duration::from_secs(50), long).fresh_access().is_none(), "50 s left: refresh");
        let short = Duration::from_secs(30);
        assert!(mk(Duration::from_secs(10), short).fresh_access().is_some(), "10 s of 30: fresh");
        assert!(mk(Duration::from_secs(2), short).fresh_access().is_none(), "2 s of 30: refresh");
        let unknown = TokenState { expires_at: None, ..mk(long, long) };
        assert!(unknown.fresh_access().is_none(), "unknown expiry forces a refresh");
    }

    fn headers(pairs: &[(&'static str, &str)]) -> reqwest::header::HeaderMap {
        let mut h = reqwest::header::HeaderMap::new();
        for (k, v) in pairs {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap();
            h.insert(name, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn rate_limit_headers_are_read_and_absent_ones_stay_none() {
        let now = tokio::time::Instant::now();
        let private = headers(&[
            ("X-HubSpot-RateLimit-Max", "190"),
            ("X-HubSpot-RateLimit-Remaining", "187"),
            ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
            ("X-HubSpot-RateLimit-Daily", "625000"),
            ("X-HubSpot-RateLimit-Daily-Remaining", "600123"),
        ]);
        let s = RateLimitSnapshot::from_headers(&private, 200, now).expect("headers present");
        assert_eq!(
            (s.max, s.remaining, s.interval, s.daily, s.daily_remaining),
            (Some(190), Some(187), Some(Duration::from_secs(10)), Some(625_000), Some(600_123)),
            "every header read"
        );
        let oauth = headers(&[
            ("X-HubSpot-RateLimit-Max", "110"),
            ("X-HubSpot-RateLimit-Remaining", "0"),
            ("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
        ]);
        let s = RateLimitSnapshot::from_headers(&oauth, 429, now).expect("headers present");
        assert_eq!((s.daily, s.status), (None, 429), "no daily pair on OAuth; status kept");
        let search = headers(&[("content-type", "application/json")]);
        assert!(RateLimitSnapshot::from_headers(&search, 200, now).is_none(), "search: none");
        let garbage = headers(&[("X-HubSpot-RateLimit-Max", "lots")]);
        assert!(RateLimitSnapshot::from_headers(&garbage, 200, now).is_none(), "unparsable");
    }

    #[test]
    fn the_daily_reserve_is_one_percent_with_a_floor() {
        assert_eq!(daily_reserve(250_000), 2_500, "Free/Starter");
        assert_eq!(daily_reserve(625_000), 6_250, "Professional");
        assert_eq!(daily_reserve(20_000), 1_000, "the floor");
        assert_eq!(daily_reserve(500), 500, "never more than the allowance");
        let at = |left| RateLimitSnapshot {
            max: Some(100),
            remaining: Some(99),
            interval: Some(Duration::from_secs(10)),
            daily: Some(250_000),
            daily_remaining: Some(left),
            status: 200,
            seen_at: tokio::time::Instant::now(),
        };
        assert_eq!(at(2_499).daily_below_reserve(), Some((2_499, 250_000)), "below: stop");
        assert_eq!(at(2_500).daily_below_reserve(), None, "at the reserve: go on");
        let oauth = RateLimitSnapshot { daily: None, daily_remaining: None, ..at(0) };
        assert_eq!(oauth.daily_below_reserve(), None, "OAuth apps have no daily limit");
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h…", "cut before a multi-byte char");
        assert_eq!(truncate("abc", 10), "abc", "short strings unchanged");
    }
}
