//! An in-memory, deterministic simulator of the parts of the HubSpot and Didomi APIs that the
//! Didomi ⇄ HubSpot sync app uses.
//!
//! It serves two axum apps on loopback (one per API, each on its own port) and is used three
//! ways: in-process by the desktop app's Sandbox mode, by the test suites, and as the standalone
//! `simulator` binary. Its behaviour follows `shared/reference/hubspot-api.md` and
//! `didomi-api.md`: paths, shapes, status codes, error bodies, paging, rate limits and value
//! validation. Nothing here is lenient on purpose.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = dhs_simulator::start(dhs_simulator::Config::default()).await?;
//! println!("{}", serde_json::to_string(&sim.info).unwrap());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod clock;
pub mod didomi;
pub mod faults;
pub mod hubspot;
pub mod people;

use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use clock::Clock;

/// The redirect URIs the simulated HubSpot app has registered by default. They are the app's own
/// fixed list of loopback callbacks, so Sandbox mode can run the real OAuth flow.
pub const DEFAULT_REDIRECT_URIS: &[&str] = &[
    "http://localhost:53134/oauth/callback",
    "http://localhost:53135/oauth/callback",
    "http://localhost:53136/oauth/callback",
    "http://localhost:53137/oauth/callback",
    "http://localhost:53138/oauth/callback",
];

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port of the HubSpot API (0 = ephemeral). Bound on 127.0.0.1 only.
    pub hubspot_port: u16,
    /// Port of the Didomi API (0 = ephemeral). Bound on 127.0.0.1 only.
    pub didomi_port: u16,
    /// Seed of every generated value; the same seed gives the same data.
    pub seed: u64,
    /// Number of people in the seeded population (see [`people`]).
    pub users: u64,
    /// Durations (token lifetimes, rate-limit windows) are divided by this.
    pub time_scale: f64,
    /// HubSpot requests the OAuth app may send per rolling 10 s window per portal (110).
    pub hubspot_requests_per_10s: u32,
    /// The private app's own rolling 10 s window: 100 on Free/Starter (the default), 190 on
    /// Professional/Enterprise, 250 with the API add-on (reference §4.1).
    pub hubspot_private_app_requests_per_10s: u32,
    /// Daily calls of the account's private apps: 250,000 on Free/Starter (the default), 625,000
    /// on Professional, 1,000,000 on Enterprise (§4.1). Resets at the account's midnight.
    pub hubspot_private_app_daily: u64,
    /// HubSpot search requests allowed per second per portal (5).
    pub hubspot_search_per_s: u32,
    /// Didomi non-consent requests allowed per 15 s window (100).
    pub didomi_requests_per_15s: u32,
    /// Redirect URIs registered on the simulated HubSpot app, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Faults injected from the start (they can also be changed at run time).
    pub faults: faults::FaultConfig,
    /// Languages of the Didomi organization's names (`en`, `fr`): the keys of every language map.
    pub didomi_languages: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hubspot_port: 0,
            didomi_port: 0,
            seed: 42,
            users: 300,
            time_scale: 1.0,
            hubspot_requests_per_10s: 110,
            hubspot_private_app_requests_per_10s: 100,
            hubspot_private_app_daily: 250_000,
            hubspot_search_per_s: 5,
            didomi_requests_per_15s: 100,
            redirect_uris: DEFAULT_REDIRECT_URIS.iter().map(|s| s.to_string()).collect(),
            faults: faults::FaultConfig::default(),
            didomi_languages: didomi::config::default_languages(),
        }
    }
}

/// The simulated HubSpot app's OAuth credentials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HubSpotApp {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// Registered redirect URIs (exact match).
    pub redirect_uris: Vec<String>,
}

/// A Didomi API key pair.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DidomiApiKey {
    /// API key (the `key` of `POST /v1/sessions`).
    pub key: String,
    /// API secret.
    pub secret: String,
}

/// What a started simulator prints as its one JSON line: where it listens and the credentials
/// that work against it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Info {
    /// Base URL of the HubSpot API, e.g. `http://127.0.0.1:40123` (paths like `/crm/v3/...` go below).
    pub hubspot: String,
    /// Base URL of the Didomi API, e.g. `http://127.0.0.1:40124` (paths like `/v1/sessions` go below).
    pub didomi: String,
    /// The simulated HubSpot app.
    pub hubspot_app: HubSpotApp,
    /// A private-app token of the seeded portal (single-account access).
    pub hubspot_private_app_token: String,
    /// The seeded Didomi API key.
    pub didomi_api_key: DidomiApiKey,
    /// The seeded Didomi organization id.
    pub didomi_organization_id: String,
}

/// A running simulator. Dropping it stops nothing; call [`Simulator::shutdown`].
#[derive(Debug)]
pub struct Simulator {
    /// Where it listens and the credentials that work.
    pub info: Info,
    /// The simulated HubSpot, for tests that inspect or change its state directly.
    pub hubspot: Arc<hubspot::HubSpot>,
    /// The simulated Didomi, for tests that inspect or change its state directly.
    pub didomi: Arc<didomi::Didomi>,
    /// The fault switches shared by both APIs.
    pub faults: Arc<faults::Faults>,
    hubspot_addr: SocketAddr,
    didomi_addr: SocketAddr,
    shutdown: Vec<tokio::sync::oneshot::Sender<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Simulator {
    /// Address the HubSpot API listens on.
    pub fn hubspot_addr(&self) -> SocketAddr {
        self.hubspot_addr
    }

    /// Address the Didomi API listens on.
    pub fn didomi_addr(&self) -> SocketAddr {
        self.didomi_addr
    }

    /// Stops both servers: stops accepting, lets requests in flight finish for up to 5 s, then
    /// aborts whatever is left (e.g. a client holding a connection open).
    pub async fn shutdown(self) {
        for tx in self.shutdown {
            let _ = tx.send(());
        }
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }
}

/// Starts both simulated APIs on loopback and returns once they accept connections.
///
/// # Errors
/// When a port cannot be bound, or `didomi_languages` is empty or has an unsupported language.
pub async fn start(config: Config) -> std::io::Result<Simulator> {
    didomi::config::check_languages(&config.didomi_languages)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let clock = Clock::new(config.time_scale);
    let faults = Arc::new(faults::Faults::new(config.faults.clone()));
    let hubspot_listener =
        tokio::net::TcpListener::bind(("127.0.0.1", config.hubspot_port)).await?;
    let didomi_listener = tokio::net::TcpListener::bind(("127.0.0.1", config.didomi_port)).await?;
    let hubspot_addr = hubspot_listener.local_addr()?;
    let didomi_addr = didomi_listener.local_addr()?;
    let hubspot_base = format!("http://{hubspot_addr}");
    let didomi_base = format!("http://{didomi_addr}");

    let hubspot = Arc::new(hubspot::HubSpot::new(&config, clock, &hubspot_base));
    let didomi = Arc::new(didomi::Didomi::new(&config, clock));

    let info = Info {
        hubspot: hubspot_base,
        didomi: didomi_base,
        hubspot_app: hubspot.app(),
        hubspot_private_app_token: hubspot.private_app_token(),
        didomi_api_key: didomi.api_key(),
        didomi_organization_id: didomi.organization_id(),
    };

    let hs = hubspot.clone();
    let hubspot_router = faults::layer(
        hubspot::router(hubspot.clone()),
        faults.clone(),
        faults::Api::HubSpot,
        Arc::new(move |h: &axum::http::HeaderMap| hs.exhausted_rate_headers(h)),
    );
    let d = didomi.clone();
    let didomi_router = faults::layer(
        didomi::router(didomi.clone()),
        faults.clone(),
        faults::Api::Didomi,
        Arc::new(move |_: &axum::http::HeaderMap| d.exhausted_rate_headers()),
    );

    let mut shutdown = Vec::new();
    let mut tasks = Vec::new();
    for (listener, router) in [(hubspot_listener, hubspot_router), (didomi_listener, didomi_router)]
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        shutdown.push(tx);
        tasks.push(tokio::spawn(async move {
            let serve =
                axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "simulator server stopped");
            }
        }));
    }

    Ok(Simulator { info, hubspot, didomi, faults, hubspot_addr, didomi_addr, shutdown, tasks })
}
