//! Didomi access tokens and the non-consent rate limiter.
//!
//! `POST /v1/sessions` returns a JWT-like token `header.payload.signature` (base64url, no
//! padding) signed with HMAC-SHA256 under a key derived from the seed, so a simulator restarted
//! with the same seed accepts the tokens the previous one issued. The payload carries `exp`
//! (seconds, as a real JWT) and `exp_ms` (the simulator's precise expiry: one hour divided by the
//! time scale).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Nominal token lifetime (didomi-api.md §1: one hour).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The API key the token was minted for.
    pub sub: String,
    /// The organization the key belongs to.
    pub organization_id: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expiry, seconds since the epoch (rounded up).
    pub exp: i64,
    /// Expiry, milliseconds since the epoch (what the simulator enforces).
    pub exp_ms: i64,
    /// Token id.
    pub jti: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this simulator (bad format or signature).
    Invalid,
    /// Signed by us but past its expiry.
    Expired,
}

/// Signs and checks tokens with a key derived from the seed.
#[derive(Debug, Clone)]
pub struct TokenSigner {
    key: [u8; 32],
}

impl TokenSigner {
    /// The signer of the simulator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        let mut h = Sha256::new();
        h.update(b"dhs-simulator didomi session signing key");
        h.update(seed.to_le_bytes());
        Self { key: h.finalize().into() }
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(data);
        mac
    }

    /// Mints a token.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let signing_input = format!("{header}.{payload}");
        let sig =
            URL_SAFE_NO_PAD.encode(self.mac(signing_input.as_bytes()).finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Checks a token's signature and expiry at `now_ms`.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] or [`TokenError::Expired`].
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| TokenError::Invalid)?;
        self.mac(format!("{h}.{p}").as_bytes())
            .verify_slice(&sig)
            .map_err(|_| TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| TokenError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
        if now_ms >= claims.exp_ms {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// A fixed-window limiter: `limit` requests per (scaled) window.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    nominal_window_s: u64,
    state: Mutex<(Instant, u32)>,
}

/// The outcome of one [`RateLimiter::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may go on.
    pub allowed: bool,
    /// The limit.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// Whole seconds (rounded up, at least 1) until the window resets.
    pub reset_s: u64,
}

impl RateLimiter {
    /// `limit` requests per `window` (already scaled); `nominal_window_s` is what the
    /// `RateLimit-Policy` header names (15).
    pub fn new(limit: u32, window: Duration, nominal_window_s: u64) -> Self {
        Self { limit, window, nominal_window_s, state: Mutex::new((Instant::now(), 0)) }
    }

    /// The nominal window length in seconds.
    pub fn nominal_window_s(&self) -> u64 {
        self.nominal_window_s
    }

    /// The decision a request would get if the window were used up (fault injection): nothing
    /// remaining, reset when the current window ends (a whole window if none is running).
    pub fn exhausted(&self) -> RateDecision {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = Instant::now().duration_since(st.0);
        let left = if elapsed >= self.window { self.window } else { self.window - elapsed };
        let reset_s = left.as_secs_f64().ceil().max(1.0) as u64;
        RateDecision { allowed: false, limit: self.limit, remaining: 0, reset_s }
    }

    /// Counts one request.
    pub fn check(&self) -> RateDecision {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if now.duration_since(st.0) >= self.window {
            *st = (now, 0);
        }
        let left = self.window.saturating_sub(now.duration_since(st.0));
        let reset_s = left.as_secs_f64().ceil().max(1.0) as u64;
        if st.1 >= self.limit {
            return RateDecision { allowed: false, limit: self.limit, remaining: 0, reset_s };
        }
        st.1 += 1;
        RateDecision { allowed: true, limit: self.limit, remaining: self.limit - st.1, reset_s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_ms: i64) -> Claims {
        Claims {
            sub: "k".into(),
            organization_id: "o".into(),
            iat: 0,
            exp: exp_ms / 1000,
            exp_ms,
            jti: "j".into(),
        }
    }

    #[test]
    fn token_roundtrip_expiry_and_tamper() {
        let s = TokenSigner::new(5);
        let t = s.sign(&claims(2_000));
        assert_eq!(s.verify(&t, 1_000), Ok(claims(2_000)), "valid before expiry");
        assert_eq!(s.verify(&t, 2_000), Err(TokenError::Expired), "expired at exp_ms");
        assert_eq!(
            TokenSigner::new(6).verify(&t, 1_000),
            Err(TokenError::Invalid),
            "another seed's key rejects it"
        );
        assert!(TokenSigner::new(5).verify(&t, 1_000).is_ok(), "same seed accepts it");
        let mut forged = t.clone();
        forged.insert(forged.find('.').unwrap() + 3, 'x');
        assert_eq!(s.verify(&forged, 1_000), Err(TokenError::Invalid), "tampered payload rejected");
        assert_eq!(s.verify("abc", 0), Err(TokenError::Invalid), "garbage rejected");
    }

    #[test]
    fn limiter_counts_and_resets() {
        let l = RateLimiter::new(3, Duration::from_millis(80), 15);
        let d: Vec<bool> = (0..4).map(|_| l.check().allowed).collect();
        assert_eq!(d, vec![true, true, true, false], "the fourth in the window is refused");
        std::thread::sleep(Duration::from_millis(100));
        assert!(l.check().allowed, "a new window allows again");
    }
}
