//! Didomi API sessions (didomi-api.md §1): `POST /v1/sessions` with
//! `{type: "api-key", key, secret}` → `{access_token}` (a JWT).
//!
//! The token is cached for its lifetime: the JWT's `exp` claim when present, else an
//! `expires_in` field in the response, else the documented 1 hour. It is minted again a margin
//! before expiry (min(5 min, 10 % of the lifetime)) and once when a call answers 401. Minting is
//! single-flight (a `tokio::sync::Mutex` around the cache).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::didomi::error::{ApiErrorBody, Error, Result};
use crate::environment::endpoint;
use crate::secrets::Secret;

/// Token lifetime assumed when nothing says otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Serialize)]
struct SessionRequest<'a> {
    #[serde(rename = "type")]
    type_: &'a str,
    key: &'a str,
    secret: &'a str,
}

#[derive(Deserialize)]
struct SessionResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct Cached {
    token: Secret,
    expires_at: SystemTime,
    lifetime: Duration,
    generation: u64,
}

impl Cached {
    fn fresh(&self) -> bool {
        let margin = (self.lifetime / 10).min(Duration::from_secs(300));
        SystemTime::now() + margin < self.expires_at
    }
}

/// A Didomi API-key session.
pub struct Session {
    http: reqwest::Client,
    base: Url,
    key: String,
    secret: Secret,
    cache: tokio::sync::Mutex<Option<Cached>>,
    mints: AtomicU64,
    retry: std::sync::Mutex<crate::run::retry::Backoff>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("base", &self.base.as_str())
            .field("key", &self.key)
            .finish()
    }
}

impl Session {
    /// A session for `key`/`secret` against `base` (host root; paths carry `/v1`).
    pub fn new(http: reqwest::Client, base: Url, key: String, secret: Secret) -> Self {
        Self {
            http,
            base,
            key,
            secret,
            cache: tokio::sync::Mutex::new(None),
            mints: AtomicU64::new(0),
            retry: std::sync::Mutex::new(crate::run::retry::Backoff::default()),
        }
    }

    /// The API key (not secret).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Tokens minted so far.
    pub fn mint_count(&self) -> u64 {
        self.mints.load(Ordering::SeqCst)
    }

    /// A valid token and its generation.
    ///
    /// # Errors
    /// [`Error::BadCredentials`] when the key/secret are refused, transport errors.
    pub async fn token(&self) -> Result<(Secret, u64)> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| c.fresh()) {
            return Ok((c.token.clone(), c.generation));
        }
        self.mint_locked(&mut cache).await
    }

    /// After a 401 with the token of `generation`: mint again unless another call already did.
    ///
    /// # Errors
    /// As [`Session::token`].
    pub async fn after_unauthorized(&self, generation: u64) -> Result<Secret> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| c.generation != generation && c.fresh()) {
            return Ok(c.token.clone());
        }
        Ok(self.mint_locked(&mut cache).await?.0)
    }

    async fn mint_locked(&self, cache: &mut Option<Cached>) -> Result<(Secret, u64)> {
        let policy = *self.retry.lock().unwrap_or_else(|p| p.into_inner());
        let (token, expires_at, lifetime) =
            crate::run::retry::retry(&policy, Error::verdict, || self.mint_once())
                .await
                .map_err(|g| Error::gave_up("POST /v1/sessions".into(), g))?;
        let generation = cache.as_ref().map_or(1, |c| c.generation + 1);
        *cache = Some(Cached { token: token.clone(), expires_at, lifetime, generation });
        Ok((token, generation))
    }

    /// Sets the retry policy of session creation (the client's).
    pub fn set_retry(&self, policy: crate::run::retry::Backoff) {
        *self.retry.lock().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    async fn mint_once(&self) -> Result<(Secret, SystemTime, Duration)> {
        self.mints.fetch_add(1, Ordering::SeqCst);
        tracing::debug!("creating a Didomi API session");
        let response = self
            .http
            .post(endpoint(&self.base, "/v1/sessions"))
            .json(&SessionRequest {
                type_: "api-key",
                key: &self.key,
                secret: self.secret.expose(),
            })
            .send()
            .await?;
        let status = response.status();
        let retry_after = crate::run::retry::retry_after(response.headers());
        let bytes = response.bytes().await?;
        if !status.is_success() {
            let body: ApiErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(match status.as_u16() {
                400 | 401 | 403 | 404 => Error::BadCredentials { status: status.as_u16(), body },
                s => Error::Api { status: s, body, retry_after },
            });
        }
        let parsed: SessionResponse =
            serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                path: "access_token".into(),
                message: e.to_string(),
                body: "<session body withheld>".into(),
            })?;
        let now = SystemTime::now();
        let expires_at = jwt_exp(&parsed.access_token)
            .or_else(|| parsed.expires_in.map(|s| now + Duration::from_secs(s)))
            .unwrap_or(now + DEFAULT_LIFETIME);
        let lifetime = expires_at.duration_since(now).unwrap_or_default();
        Ok((Secret::new(parsed.access_token), expires_at, lifetime))
    }
}

/// The `exp` claim (seconds since the epoch) of a JWT, without verifying it.
fn jwt_exp(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = v.get("exp")?.as_f64()?;
    (exp > 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(exp))
}

/// Decodes unpadded (or padded) base64url.
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_roundtrip_known_values() {
        assert_eq!(base64url_decode("aGVsbG8").unwrap(), b"hello", "unpadded");
        assert_eq!(base64url_decode("aGVsbG8=").unwrap(), b"hello", "padded");
        assert_eq!(base64url_decode("_-8").unwrap(), vec![0xff, 0xef], "url-safe alphabet");
        assert!(base64url_decode("a b").is_none(), "invalid char");
    }

    #[test]
    fn reads_exp_from_jwt() {
        // {"exp":2000000000}
        let t = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDB9.sig";
        assert_eq!(jwt_exp(t), Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000)), "exp");
        assert_eq!(jwt_exp("opaque-token"), None, "not a JWT");
    }

    #[test]
    fn cache_margin() {
        let c = |left: u64, lifetime: u64| Cached {
            token: "t".into(),
            expires_at: SystemTime::now() + Duration::from_secs(left),
            lifetime: Duration::from_secs(lifetime),
            generation: 1,
        };
        assert!(c(3000, 3600).fresh(), "50 min left of 1 h");
        assert!(!c(200, 3600).fresh(), "inside the 5 min margin");
        assert!(c(50, 60).fresh(), "short lifetime: 10 % margin");
        assert!(!c(5, 60).fresh(), "short lifetime near expiry");
    }
}
