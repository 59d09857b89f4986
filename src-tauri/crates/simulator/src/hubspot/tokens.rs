//! Self-validating OAuth tokens.
//!
//! Sandbox mode restarts the simulator with the app and must not make the admin reconnect, so
//! access and refresh tokens carry their own claims (portal, user, scopes, issue/expiry time,
//! grant id) and an HMAC-SHA256 over them with a key derived from the seed. A restarted
//! simulator with the same seed accepts the tokens of the previous run; revocations are kept in
//! memory only (a restart forgets them — documented limitation).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Prefix of access tokens (HubSpot's start with `C`; ours say what they are).
pub const ACCESS_PREFIX: &str = "CSIM-at.";
/// Prefix of refresh tokens (HubSpot's look like `na1-…`).
pub const REFRESH_PREFIX: &str = "na1-sim.";

/// What a token says about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// `a` (access) or `r` (refresh).
    pub k: char,
    /// Portal (hub) id.
    pub h: u64,
    /// User id of the installing user.
    pub u: u64,
    /// Granted scopes.
    pub s: Vec<String>,
    /// Issued at, ms since epoch.
    pub i: i64,
    /// Expires at, ms since epoch (`i64::MAX` for refresh tokens).
    pub e: i64,
    /// Grant id shared by every token of one authorization (revoking the refresh token revokes it).
    pub g: String,
    /// Unique id of this token.
    pub n: String,
}

/// Signs and checks tokens with a key derived from the seed.
#[derive(Debug, Clone)]
pub struct TokenKeys {
    key: [u8; 32],
}

impl TokenKeys {
    /// Keys for a seed; the same seed gives the same keys.
    pub fn new(seed: u64) -> Self {
        Self { key: derive(seed, "token-hmac-key") }
    }

    /// Encodes and signs claims.
    pub fn issue(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let sig = URL_SAFE_NO_PAD.encode(self.sign(payload.as_bytes()));
        let prefix = if claims.k == 'r' { REFRESH_PREFIX } else { ACCESS_PREFIX };
        format!("{prefix}{payload}.{sig}")
    }

    /// Decodes a token whose signature is valid; `None` for anything else.
    pub fn check(&self, token: &str) -> Option<Claims> {
        let rest =
            token.strip_prefix(ACCESS_PREFIX).or_else(|| token.strip_prefix(REFRESH_PREFIX))?;
        let (payload, sig) = rest.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.key).ok()?;
        mac.update(payload.as_bytes());
        mac.verify_slice(&sig).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let expected_prefix = if claims.k == 'r' { REFRESH_PREFIX } else { ACCESS_PREFIX };
        token.starts_with(expected_prefix).then_some(claims)
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        // new_from_slice accepts any key length for HMAC.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

/// 32 bytes derived from the seed and a label (SHA-256); used for keys, ids and secrets.
pub fn derive(seed: u64, label: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"dhs-simulator/hubspot/");
    h.update(label.as_bytes());
    h.update(seed.to_le_bytes());
    h.finalize().into()
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The PKCE S256 transform: `BASE64URL(SHA256(verifier))`.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            k: 'a',
            h: 1,
            u: 2,
            s: vec!["oauth".into()],
            i: 10,
            e: 20,
            g: "g".into(),
            n: "n".into(),
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        let keys = TokenKeys::new(7);
        let t = keys.issue(&claims());
        assert_eq!(keys.check(&t), Some(claims()), "a freshly issued token must verify");
        assert_eq!(TokenKeys::new(7).check(&t), Some(claims()), "same seed, same key (restart)");
        assert_eq!(TokenKeys::new(8).check(&t), None, "another seed must not accept it");
        let mut bad = t.clone();
        bad.insert(ACCESS_PREFIX.len() + 2, 'x');
        assert_eq!(keys.check(&bad), None, "a tampered payload must fail");
        let swapped = t.replacen(ACCESS_PREFIX, REFRESH_PREFIX, 1);
        assert_eq!(keys.check(&swapped), None, "an access token is not a refresh token");
    }

    #[test]
    fn pkce_is_base64url_sha256() {
        // Expected value computed independently with Python's hashlib + base64.urlsafe_b64encode.
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r7wW1gZYDYpeY8"),
            "xQRovK9Em6xBTgpv4nG76HiqUn5Vn8LrCIEiMTVd18g",
            "S256 = unpadded base64url of SHA-256"
        );
    }
}
