//! The run-time environment, decided ONCE at startup by the shell: which HubSpot and Didomi hosts
//! to talk to, which keychain namespace to use, where data lives and which loopback ports the
//! OAuth callback may use. Nothing below this module knows whether it runs in Sandbox or Live;
//! it only receives these values.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use crate::secrets::{KeychainStatus, Secret};

/// Keychain service name in Live mode.
pub const LIVE_KEYRING_SERVICE: &str = "didomi-hubspot-sync";
/// Keychain service name in Sandbox mode (its own namespace).
pub const SANDBOX_KEYRING_SERVICE: &str = "didomi-hubspot-sync.sandbox";
/// Loopback ports tried in order for the OAuth callback; each must be registered on the app as
/// `http://localhost:<port>/oauth/callback` (HubSpot matches redirect URIs exactly).
pub const DEFAULT_REDIRECT_PORTS: [u16; 5] = [53134, 53135, 53136, 53137, 53138];
/// Path of the loopback OAuth callback.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// Sandbox (in-process simulator) or Live (real HubSpot and Didomi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum Mode {
    /// Talks to the in-process simulator with its seeded credentials.
    Sandbox,
    /// Talks to the real APIs.
    Live,
}

/// Credentials that work against the simulator, offered in Sandbox mode. Secrets stay in the
/// core: when the UI leaves a secret field empty in Sandbox, the prefilled value is used.
#[derive(Debug, Clone)]
pub struct Prefill {
    /// The simulated HubSpot app's client id.
    pub hubspot_client_id: String,
    /// The simulated HubSpot app's client secret.
    pub hubspot_client_secret: Secret,
    /// A private-app token of the simulated portal.
    pub hubspot_private_app_token: Secret,
    /// The seeded Didomi API key.
    pub didomi_api_key: String,
    /// The seeded Didomi API secret.
    pub didomi_api_secret: Secret,
    /// The seeded Didomi organization id.
    pub didomi_organization_id: String,
}

/// Where and how the app runs.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Sandbox or Live.
    pub mode: Mode,
    /// HubSpot API host (`https://api.hubapi.com` in Live).
    pub hubspot_api_base: Url,
    /// HubSpot app host serving the authorize page (`https://app.hubspot.com` in Live).
    pub hubspot_app_base: Url,
    /// Didomi API host (`https://api.didomi.io` in Live; paths carry the `/v1` prefix).
    pub didomi_api_base: Url,
    /// Keychain service name (namespace of every secret).
    pub keyring_service: String,
    /// App data directory.
    pub data_dir: PathBuf,
    /// Loopback ports for the OAuth callback, tried in order.
    pub redirect_ports: Vec<u16>,
    /// Sandbox credentials.
    pub prefill: Option<Prefill>,
}

impl Environment {
    /// The real APIs.
    pub fn live(data_dir: PathBuf) -> Self {
        Self {
            mode: Mode::Live,
            hubspot_api_base: Url::parse("https://api.hubapi.com").expect("static URL"),
            hubspot_app_base: Url::parse("https://app.hubspot.com").expect("static URL"),
            didomi_api_base: Url::parse("https://api.didomi.io").expect("static URL"),
            keyring_service: LIVE_KEYRING_SERVICE.into(),
            data_dir,
            redirect_ports: DEFAULT_REDIRECT_PORTS.to_vec(),
            prefill: None,
        }
    }

    /// The simulator at `hubspot_base` / `didomi_base` (its authorize page is on the API host).
    pub fn sandbox(
        hubspot_base: Url,
        didomi_base: Url,
        prefill: Prefill,
        data_dir: PathBuf,
    ) -> Self {
        Self {
            mode: Mode::Sandbox,
            hubspot_app_base: hubspot_base.clone(),
            hubspot_api_base: hubspot_base,
            didomi_api_base: didomi_base,
            keyring_service: SANDBOX_KEYRING_SERVICE.into(),
            data_dir,
            redirect_ports: DEFAULT_REDIRECT_PORTS.to_vec(),
            prefill: Some(prefill),
        }
    }

    /// The redirect URI for a loopback port.
    pub fn redirect_uri(port: u16) -> String {
        format!("http://localhost:{port}{CALLBACK_PATH}")
    }

    /// Every redirect URI the admin must register on the HubSpot app.
    pub fn redirect_uris(&self) -> Vec<String> {
        self.redirect_ports.iter().map(|p| Self::redirect_uri(*p)).collect()
    }
}

/// What the UI shows about the environment. Crosses IPC; no secrets.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EnvironmentInfo {
    /// Sandbox or Live.
    pub mode: Mode,
    /// HubSpot API host.
    pub hubspot_api_base: String,
    /// Didomi API host.
    pub didomi_api_base: String,
    /// Redirect URIs to register on the HubSpot app.
    pub redirect_uris: Vec<String>,
    /// Last known keychain state.
    pub keychain: KeychainStatus,
    /// Non-secret Sandbox values to prefill the forms with (secrets stay in the core).
    pub prefill: Option<PrefillInfo>,
}

/// The non-secret half of [`Prefill`]. Crosses IPC.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PrefillInfo {
    /// The simulated app's client id.
    pub hubspot_client_id: String,
    /// The seeded Didomi API key.
    pub didomi_api_key: String,
    /// The seeded Didomi organization id.
    pub didomi_organization_id: String,
}

impl From<&Prefill> for PrefillInfo {
    fn from(p: &Prefill) -> Self {
        Self {
            hubspot_client_id: p.hubspot_client_id.clone(),
            didomi_api_key: p.didomi_api_key.clone(),
            didomi_organization_id: p.didomi_organization_id.clone(),
        }
    }
}

/// Joins `path` (starting with `/`) under `base`, keeping any path `base` already has.
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    let mut s = base.as_str().trim_end_matches('/').to_owned();
    s.push_str(path);
    Url::parse(&s).unwrap_or_else(|_| base.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_and_sandbox_differ_only_in_inputs() {
        let live = Environment::live("/tmp/x".into());
        assert_eq!(live.keyring_service, "didomi-hubspot-sync", "live namespace");
        assert_eq!(live.hubspot_app_base.as_str(), "https://app.hubspot.com/", "authorize host");
        assert_eq!(
            live.redirect_uris()[0],
            "http://localhost:53134/oauth/callback",
            "redirect uri shape"
        );
        let p = Prefill {
            hubspot_client_id: "c".into(),
            hubspot_client_secret: "s".into(),
            hubspot_private_app_token: "t".into(),
            didomi_api_key: "k".into(),
            didomi_api_secret: "d".into(),
            didomi_organization_id: "o".into(),
        };
        let sb = Environment::sandbox(
            Url::parse("http://127.0.0.1:1").unwrap(),
            Url::parse("http://127.0.0.1:2").unwrap(),
            p,
            "/tmp/y".into(),
        );
        assert_eq!(sb.keyring_service, "didomi-hubspot-sync.sandbox", "sandbox namespace");
        assert_eq!(sb.hubspot_app_base, sb.hubspot_api_base, "simulator serves authorize page");
    }

    #[test]
    fn endpoint_keeps_base_path() {
        let b = Url::parse("http://h:1/prefix/").unwrap();
        assert_eq!(endpoint(&b, "/v1/sessions").as_str(), "http://h:1/prefix/v1/sessions", "join");
        let b = Url::parse("http://h:1").unwrap();
        assert_eq!(endpoint(&b, "/x").as_str(), "http://h:1/x", "root base");
    }
}
