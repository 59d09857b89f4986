//! Token endpoint and introspection bodies (hubspot-api.md §1.5, §1.6).

use oauth2::basic::BasicTokenType;
use oauth2::{ExtraTokenFields, StandardTokenResponse};
use serde::{Deserialize, Serialize};

/// HubSpot's extra fields on the token response. HubSpot sends `scopes` as an array (not the
/// RFC's space-separated `scope`), so it lands here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HubSpotTokenFields {
    /// Portal id.
    pub hub_id: Option<u64>,
    /// Installing user id.
    pub user_id: Option<u64>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// `access_token`.
    pub token_use: Option<String>,
}

impl ExtraTokenFields for HubSpotTokenFields {}

/// The token response as parsed by `oauth2`.
pub type HubSpotTokenResponse = StandardTokenResponse<HubSpotTokenFields, BasicTokenType>;

/// Introspection result (`POST /oauth/2026-03/token/introspect`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TokenInfo {
    /// Whether the token is valid.
    pub active: bool,
    /// `access_token` or `refresh_token`.
    pub token_use: Option<String>,
    /// Portal id.
    pub hub_id: Option<u64>,
    /// User id.
    pub user_id: Option<u64>,
    /// Installing user's email.
    pub user: Option<String>,
    /// Hub domain.
    pub hub_domain: Option<String>,
    /// App id.
    pub app_id: Option<u64>,
    /// Client id.
    pub client_id: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Seconds left.
    pub expires_in: Option<i64>,
}
