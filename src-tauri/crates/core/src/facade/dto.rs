//! Data that crosses IPC from the [`crate::Core`] facade: camelCase, `ts_rs` bindings, and never
//! a secret (they say *whether* something is set, never its value).

use serde::Serialize;
use ts_rs::TS;

use crate::secrets::KeychainStatus;
use crate::settings::HubSpotAuthMode;

/// Returned by `hubspot_install_start`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct InstallStart {
    /// The authorize URL opened in the browser (show it as a fallback link).
    pub authorize_url: String,
    /// The redirect URI in use (must be registered on the HubSpot app).
    pub redirect_uri: String,
    /// When the install started (RFC 3339).
    pub started_at: String,
    /// Until when a pasted code is accepted (RFC 3339).
    pub paste_expires_at: String,
    /// Seconds left to paste a code.
    pub paste_seconds_left: u32,
    /// Whether the system browser could be opened.
    pub browser_opened: bool,
}

/// The connected HubSpot account (the account card).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HubSpotAccount {
    /// OAuth or private-app token.
    pub auth_mode: HubSpotAuthMode,
    /// Portal (hub) id.
    #[ts(type = "number | null")]
    pub portal_id: Option<u64>,
    /// Hub domain.
    pub hub_domain: Option<String>,
    /// UI domain (e.g. `app-eu1.hubspot.com`).
    pub ui_domain: Option<String>,
    /// Installing user (OAuth only).
    pub user: Option<String>,
    /// Granted scopes (OAuth; empty when unknown).
    pub scopes: Vec<String>,
    /// Required scopes not granted.
    pub missing_scopes: Vec<String>,
    /// Account type (`STANDARD`, `SANDBOX`...).
    pub account_type: Option<String>,
    /// Time zone.
    pub time_zone: Option<String>,
    /// Data hosting location (`na1`, `eu1`...).
    pub data_hosting_location: Option<String>,
    /// Contact properties readable (the Connect check); `None` = not checked.
    #[ts(type = "number | null")]
    pub contact_property_count: Option<u32>,
    /// When connected (RFC 3339).
    pub connected_at: Option<String>,
}

/// HubSpot connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum HubSpotState {
    /// Not connected.
    NotConnected,
    /// An install is waiting for the browser or a paste.
    Installing,
    /// Connected.
    Connected,
    /// HubSpot refused the refresh token (or it is missing): install again.
    ReconnectNeeded,
}

/// HubSpot part of [`ConnectionStatus`].
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HubSpotStatus {
    /// State.
    pub state: HubSpotState,
    /// The account, when known.
    pub account: Option<HubSpotAccount>,
    /// The install in progress, with the paste time left.
    pub install: Option<InstallStart>,
    /// Something the user should know (e.g. "revocation failed, token deleted locally").
    pub notice: Option<String>,
    /// The saved client id (prefills the form).
    pub client_id: Option<String>,
    /// Whether a client secret is stored in the keychain (the value never leaves the core).
    pub client_secret_stored: bool,
    /// Why a reconnect is needed, when it is.
    pub reason: Option<String>,
}

/// A named Didomi entity.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NamedItem {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The connected Didomi organization (the account card).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DidomiAccount {
    /// API key (public half).
    pub api_key: String,
    /// Organization id.
    pub organization_id: String,
    /// Purposes.
    pub purposes: Vec<NamedItem>,
    /// Library preferences.
    pub preferences: Vec<NamedItem>,
    /// Number of purposes.
    pub purpose_count: u32,
    /// Number of library preferences.
    pub preference_count: u32,
    /// Whether the organization has a configuration tree.
    pub config_tree: bool,
    /// Purposes selected in the tree.
    pub tree_purpose_count: u32,
    /// Preferences selected in the tree (all depths).
    pub tree_preference_count: u32,
    /// When connected (RFC 3339).
    pub connected_at: Option<String>,
}

/// Didomi connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum DidomiState {
    /// Not connected.
    NotConnected,
    /// Connected.
    Connected,
}

/// Didomi part of [`ConnectionStatus`].
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DidomiStatus {
    /// State.
    pub state: DidomiState,
    /// The account, when known (lists are empty until reconnected after a restart).
    pub account: Option<DidomiAccount>,
}

/// Everything the Connect screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConnectionStatus {
    /// HubSpot.
    pub hubspot: HubSpotStatus,
    /// Didomi.
    pub didomi: DidomiStatus,
    /// Keychain.
    pub keychain: KeychainStatus,
    /// The HubSpot API host answered (any HTTP answer counts).
    pub hubspot_api_reachable: bool,
    /// The Didomi API host answered.
    pub didomi_api_reachable: bool,
}
