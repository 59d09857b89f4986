//! Sandbox mode: the in-process simulator of HubSpot and Didomi, the [`Environment`] built from
//! it, and the reachability check behind the UI's status line.

use std::path::PathBuf;

use dhs_core::environment::{Environment, Prefill, DEFAULT_REDIRECT_PORTS};
use dhs_simulator::{Info, Simulator};
use url::Url;

/// Seed of the Sandbox simulator. Fixed, so the seeded data and the credentials derived from it
/// are the same on every start and tokens kept in the keychain stay valid across restarts.
pub const SANDBOX_SEED: u64 = 42;

/// Starts the simulator on ephemeral loopback ports, with the app's fixed redirect URIs
/// registered on the simulated HubSpot app.
///
/// # Errors
/// When a loopback port cannot be bound.
pub async fn start() -> std::io::Result<Simulator> {
    let config = dhs_simulator::Config {
        seed: SANDBOX_SEED,
        redirect_uris: DEFAULT_REDIRECT_PORTS
            .iter()
            .map(|p| Environment::redirect_uri(*p))
            .collect(),
        ..dhs_simulator::Config::default()
    };
    dhs_simulator::start(config).await
}

/// The credentials that work against the simulator, for the core's Sandbox prefill.
pub fn prefill(info: &Info) -> Prefill {
    Prefill {
        hubspot_client_id: info.hubspot_app.client_id.clone(),
        hubspot_client_secret: info.hubspot_app.client_secret.as_str().into(),
        hubspot_private_app_token: info.hubspot_private_app_token.as_str().into(),
        didomi_api_key: info.didomi_api_key.key.clone(),
        didomi_api_secret: info.didomi_api_key.secret.as_str().into(),
        didomi_organization_id: info.didomi_organization_id.clone(),
    }
}

/// The Sandbox [`Environment`] for a running simulator.
///
/// # Errors
/// When the simulator's base URLs do not parse (a simulator bug).
pub fn environment(info: &Info, data_dir: PathBuf) -> Result<Environment, url::ParseError> {
    Ok(Environment::sandbox(
        Url::parse(&info.hubspot)?,
        Url::parse(&info.didomi)?,
        prefill(info),
        data_dir,
    ))
}

/// The running Sandbox simulator, kept in Tauri state for the whole run (its servers live on
/// Tauri's async runtime). Reachability is reported by `Core::status`.
#[derive(Debug)]
pub struct Sandbox {
    simulator: Simulator,
}

impl Sandbox {
    /// Wraps a started simulator.
    pub fn new(simulator: Simulator) -> Self {
        Self { simulator }
    }

    /// Where the simulator listens and its seeded credentials.
    pub fn info(&self) -> &Info {
        &self.simulator.info
    }

    /// Stops the simulator (tests; the app just exits).
    pub async fn shutdown(self) {
        self.simulator.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn simulator_answers_on_loopback_until_shut_down() {
        let sandbox = Sandbox::new(start().await.expect("simulator starts"));
        let (hubspot, didomi) = (sandbox.info().hubspot.clone(), sandbox.info().didomi.clone());
        assert!(hubspot.starts_with("http://127.0.0.1:"), "loopback only: {hubspot}");
        let http = reqwest::Client::builder().no_proxy().build().expect("client");
        assert!(http.get(&hubspot).send().await.is_ok(), "HubSpot simulator answers HTTP");
        assert!(http.get(&didomi).send().await.is_ok(), "Didomi simulator answers HTTP");
        sandbox.shutdown().await;
        assert!(http.get(&hubspot).send().await.is_err(), "stopped HubSpot simulator is gone");
    }

    #[tokio::test]
    async fn environment_points_at_the_simulator_with_its_credentials() {
        let sim = start().await.expect("simulator starts");
        let env = environment(&sim.info, PathBuf::from("/tmp/dhs-test")).expect("valid URLs");
        assert_eq!(env.mode, dhs_core::Mode::Sandbox, "sandbox environment");
        assert_eq!(
            env.hubspot_api_base.as_str().trim_end_matches('/'),
            sim.info.hubspot,
            "HubSpot calls go to the simulator"
        );
        assert_eq!(
            env.didomi_api_base.as_str().trim_end_matches('/'),
            sim.info.didomi,
            "Didomi calls go to the simulator"
        );
        let prefill = env.prefill.as_ref().expect("sandbox has a prefill");
        assert_eq!(prefill.hubspot_client_id, sim.info.hubspot_app.client_id, "client id");
        assert_eq!(
            prefill.didomi_api_secret.expose(),
            sim.info.didomi_api_key.secret,
            "the Didomi secret comes from the simulator"
        );
        for uri in env.redirect_uris() {
            assert!(
                sim.info.hubspot_app.redirect_uris.contains(&uri),
                "{uri} is registered on the simulated app, so the real OAuth flow works"
            );
        }
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn the_fixed_seed_gives_the_same_credentials_on_every_start() {
        let a = start().await.expect("first start");
        let b = start().await.expect("second start");
        assert_eq!(
            a.info.hubspot_private_app_token, b.info.hubspot_private_app_token,
            "tokens survive a restart"
        );
        assert_eq!(a.info.didomi_api_key, b.info.didomi_api_key, "Didomi key pair is stable");
        a.shutdown().await;
        b.shutdown().await;
    }
}
