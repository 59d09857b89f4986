//! The app's settings: ONE typed, versioned struct with its defaults in one place.
//!
//! The shell persists it (tauri-plugin-store) as the JSON from [`Settings::to_json`] and loads it
//! with [`Settings::from_json`], which migrates older versions, ignores unknown fields and turns
//! invalid content into a clear [`SettingsError`]. **Never a secret in here**: tokens and
//! secrets live in the keychain ([`crate::secrets`]); unknown fields (e.g. a `clientSecret` a
//! hand-edited file might contain) are dropped on load.
//!
//! Versions:
//! - 0 (no `version` field): the pre-release flat shape `{ hubspotClientId, didomiApiKey,
//!   didomiOrganizationId }`;
//! - 1: the current nested shape.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::mapping::Mapping;
use crate::pull::ConflictWinner;

/// Version written by this build.
pub const SETTINGS_VERSION: u32 = 1;

/// How the app is connected to HubSpot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum HubSpotAuthMode {
    /// OAuth install of the admin's HubSpot app (access + refresh tokens).
    #[serde(rename = "oauth")]
    OAuth,
    /// A private-app token or service key (static bearer).
    PrivateApp,
}

/// Everything about the HubSpot connection that is not secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct HubSpotSettings {
    /// The HubSpot app's client id (kept after disconnect to ease reconnecting).
    pub client_id: Option<String>,
    /// How the app is connected; `None` = not connected.
    pub auth_mode: Option<HubSpotAuthMode>,
    /// Redirect URI used by the last install.
    pub redirect_uri: Option<String>,
    /// Portal (hub) id of the connected account.
    #[ts(type = "number | null")]
    pub portal_id: Option<u64>,
    /// Hub domain from the token metadata.
    pub hub_domain: Option<String>,
    /// UI domain from the account details (e.g. `app-eu1.hubspot.com`).
    pub ui_domain: Option<String>,
    /// The installing user's email.
    pub user: Option<String>,
    /// Scopes granted.
    pub scopes: Vec<String>,
    /// When the connection was made (RFC 3339).
    pub connected_at: Option<String>,
    /// When the stored access token expires (RFC 3339); lets a restart reuse it.
    pub access_token_expires_at: Option<String>,
}

/// Everything about the Didomi connection that is not secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct DidomiSettings {
    /// The private API key (the public half of the key pair; the secret is in the keychain).
    pub api_key: Option<String>,
    /// The organization id.
    pub organization_id: Option<String>,
    /// When the connection was validated (RFC 3339); `None` = not connected.
    pub connected_at: Option<String>,
}

/// Sync options (the Options screen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct SyncOptions {
    /// HubSpot property group that holds the Didomi properties.
    pub property_group: String,
    /// Records per HubSpot batch call (HubSpot allows at most 100).
    pub batch_size: u32,
    /// Upsert mode: a push creates a HubSpot contact for an email that matches no contact.
    /// Off: such people are skipped and counted.
    pub upsert: bool,
    /// Bidirectional flow: HubSpot → Didomi pulls for contacts whose "Didomi Changed" rose.
    pub bidirectional: bool,
    /// The HubSpot account id given when the bidirectional flow was enabled.
    #[ts(type = "number | null")]
    pub hubspot_account_id: Option<u64>,
    /// Internal name of the "Didomi Changed" number property.
    pub didomi_changed_property: String,
    /// The pull: who wins when both sides changed the same item since the last sync.
    pub conflict_winner: ConflictWinner,
    /// The pull: forward pulled changes to Didomi's other integrations (off: every event the
    /// pull writes carries `$disable_integrations`).
    pub forward_to_integrations: bool,
    /// Auto-sync while the app is open: every this many minutes (at least
    /// [`AUTO_SYNC_MIN_MINUTES`]); `None` = off, the default. Not exported: it belongs to this
    /// machine, not to the configuration.
    pub auto_sync_minutes: Option<u32>,
}

/// The shortest auto-sync interval, in minutes.
pub const AUTO_SYNC_MIN_MINUTES: u32 = 5;
/// The longest auto-sync interval, in minutes (one day).
pub const AUTO_SYNC_MAX_MINUTES: u32 = 24 * 60;

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            property_group: "didomi".into(),
            batch_size: 100,
            upsert: false,
            bidirectional: false,
            hubspot_account_id: None,
            didomi_changed_property: "didomi_changed".into(),
            conflict_winner: ConflictWinner::Didomi,
            forward_to_integrations: false,
            auto_sync_minutes: None,
        }
    }
}

/// All settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct Settings {
    /// Format version ([`SETTINGS_VERSION`]).
    pub version: u32,
    /// HubSpot connection.
    pub hubspot: HubSpotSettings,
    /// Didomi connection.
    pub didomi: DidomiSettings,
    /// Sync options.
    pub options: SyncOptions,
    /// Which HubSpot property each Didomi purpose, preference and value is written to.
    pub mapping: Mapping,
    /// The workflow setup guide's steps the admin ticked (1-based).
    pub workflow_steps: Vec<u8>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: SETTINGS_VERSION,
            hubspot: HubSpotSettings::default(),
            didomi: DidomiSettings::default(),
            options: SyncOptions::default(),
            mapping: Mapping::default(),
            workflow_steps: Vec::new(),
        }
    }
}

/// Why stored settings could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    /// The JSON is not an object or a field has the wrong type.
    #[error("the settings file is invalid at `{path}`: {message}. Fix or delete the file; the app then starts with defaults")]
    Invalid {
        /// JSON path of the bad field (`.` for the root).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Written by a newer version of the app.
    #[error("the settings were written by a newer version of the app (format {found}, this build reads up to {SETTINGS_VERSION}). Update the app")]
    TooNew {
        /// Version found.
        found: u64,
    },
}

impl Settings {
    /// Loads settings from their stored JSON (`null` = defaults), migrating older versions.
    ///
    /// # Errors
    /// [`SettingsError`] when the content is invalid or from a newer version.
    pub fn from_json(value: serde_json::Value) -> Result<Self, SettingsError> {
        let value = match value {
            serde_json::Value::Null => return Ok(Self::default()),
            serde_json::Value::Object(map) => map,
            other => {
                return Err(SettingsError::Invalid {
                    path: ".".into(),
                    message: format!("expected an object, found {}", json_kind(&other)),
                })
            }
        };
        let version = match value.get("version") {
            None => 0,
            Some(v) => v.as_u64().ok_or_else(|| SettingsError::Invalid {
                path: "version".into(),
                message: "expected a non-negative integer".into(),
            })?,
        };
        if version > u64::from(SETTINGS_VERSION) {
            return Err(SettingsError::TooNew { found: version });
        }
        let value = if version == 0 { migrate_v0(value) } else { value };
        let mut settings: Settings =
            serde_path_to_error::deserialize(serde_json::Value::Object(value)).map_err(|e| {
                SettingsError::Invalid {
                    path: e.path().to_string(),
                    message: e.inner().to_string(),
                }
            })?;
        settings.version = SETTINGS_VERSION;
        Ok(settings)
    }

    /// The JSON to persist.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Version 0 → 1: the flat pre-release keys move into their sections.
fn migrate_v0(
    old: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut hubspot = serde_json::Map::new();
    let mut didomi = serde_json::Map::new();
    if let Some(v) = old.get("hubspotClientId") {
        hubspot.insert("clientId".into(), v.clone());
    }
    if let Some(v) = old.get("didomiApiKey") {
        didomi.insert("apiKey".into(), v.clone());
    }
    if let Some(v) = old.get("didomiOrganizationId") {
        didomi.insert("organizationId".into(), v.clone());
    }
    let mut new = serde_json::Map::new();
    new.insert("version".into(), SETTINGS_VERSION.into());
    new.insert("hubspot".into(), hubspot.into());
    new.insert("didomi".into(), didomi.into());
    new
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_and_empty_give_defaults() {
        assert_eq!(Settings::from_json(json!(null)).unwrap(), Settings::default(), "null");
        let s = Settings::from_json(json!({"version": 1})).unwrap();
        assert_eq!(s, Settings::default(), "missing sections take defaults");
        assert_eq!(s.options.property_group, "didomi", "default group");
    }

    #[test]
    fn round_trip_keeps_values() {
        let mut s = Settings::default();
        s.hubspot.client_id = Some("cid".into());
        s.hubspot.auth_mode = Some(HubSpotAuthMode::OAuth);
        s.hubspot.portal_id = Some(123);
        s.didomi.organization_id = Some("org".into());
        let back = Settings::from_json(s.to_json()).unwrap();
        assert_eq!(back, s, "to_json → from_json is lossless");
        assert_eq!(s.to_json()["hubspot"]["authMode"], json!("oauth"), "camelCase on disk");
    }

    #[test]
    fn migrates_version_0_flat_shape() {
        let s = Settings::from_json(json!({
            "hubspotClientId": "cid", "didomiApiKey": "key", "didomiOrganizationId": "org",
            "clientSecret": "must-be-dropped"
        }))
        .unwrap();
        assert_eq!(s.version, SETTINGS_VERSION, "migrated to current version");
        assert_eq!(s.hubspot.client_id.as_deref(), Some("cid"), "client id moved");
        assert_eq!(s.didomi.api_key.as_deref(), Some("key"), "api key moved");
        assert_eq!(s.didomi.organization_id.as_deref(), Some("org"), "org moved");
        assert!(!s.to_json().to_string().contains("must-be-dropped"), "unknown secret dropped");
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let s = Settings::from_json(json!({"version": 1, "future": 1, "hubspot": {"x": 2}}));
        assert!(s.is_ok(), "unknown fields must not fail the load: {s:?}");
    }

    #[test]
    fn invalid_content_names_the_field() {
        let e =
            Settings::from_json(json!({"version": 1, "hubspot": {"portalId": "abc"}})).unwrap_err();
        match &e {
            SettingsError::Invalid { path, .. } => {
                assert_eq!(path, "hubspot.portalId", "error points at the bad field")
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert!(e.to_string().contains("delete the file"), "message says what to do");
        assert!(
            matches!(Settings::from_json(json!([1])), Err(SettingsError::Invalid { .. })),
            "array root is invalid"
        );
        assert!(
            matches!(
                Settings::from_json(json!({"version": 99})),
                Err(SettingsError::TooNew { found: 99 })
            ),
            "newer version refused"
        );
    }

    #[test]
    fn fixture_files_load() {
        let v0: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/settings-v0.json")).unwrap();
        let v1: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/settings-v1.json")).unwrap();
        let a = Settings::from_json(v0).unwrap();
        let b = Settings::from_json(v1).unwrap();
        assert_eq!(a.hubspot.client_id, b.hubspot.client_id, "v0 and v1 fixtures agree on id");
        assert_eq!(b.hubspot.portal_id, Some(1234567), "v1 fixture portal");
        assert_eq!(b.options.batch_size, 50, "v1 fixture option");
    }
}
