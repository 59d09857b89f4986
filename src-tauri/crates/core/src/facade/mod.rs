//! The [`Core`] facade: what the Tauri shell's commands call. One `Arc<Core>` lives in Tauri
//! state: a thin root over what every service shares (the environment, the settings persisted
//! through the shell's [`SettingsSink`], the secret store) and three services, each with its own
//! state and methods:
//!
//! - [`Connections`] (`hubspot.rs`: install, paste, private token, disconnect; `didomi.rs`;
//!   status and keychain here);
//! - [`Configuration`] (`mapping.rs`, `options.rs`, `config_file.rs`);
//! - [`Runs`] (`push.rs`: push and History; `pull.rs`; `auto_sync.rs`; `inspect.rs`).
//!
//! A service calls only the ones before it (runs → configuration → connections). [`dto`] holds
//! the IPC types.

mod auto_sync;
mod config_file;
mod didomi;
pub mod dto;
mod hubspot;
pub mod inspect;
pub mod mapping;
mod options;
pub mod pull;
mod push;

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::didomi::DidomiClient;
use crate::environment::{Environment, EnvironmentInfo, PrefillInfo};
use crate::error::{Error, ErrorCode};
use crate::hubspot::HubSpotClient;
use crate::secrets::{KeychainStatus, SecretStore};
use crate::settings::Settings;

pub use dto::*;

/// Persists settings (the shell writes them with tauri-plugin-store). Returns a message on failure.
pub type SettingsSink = Box<dyn Fn(&Settings) -> Result<(), String> + Send + Sync>;

/// How long a pasted code is accepted after the install started (Didomi's own flow says the
/// code is good for an hour).
pub const DEFAULT_PASTE_WINDOW: Duration = Duration::from_secs(3600);

/// Tunables of the OAuth flow (tests shorten them; the shell keeps the defaults).
#[derive(Debug, Clone)]
pub struct CoreOptions {
    /// How long the loopback listener waits for the browser.
    pub callback_timeout: Duration,
    /// How long after install start a pasted code is accepted.
    pub paste_window: Duration,
    /// Open the system browser at install start (tests play the browser themselves).
    pub open_browser: bool,
}

impl Default for CoreOptions {
    fn default() -> Self {
        Self {
            callback_timeout: crate::hubspot::loopback::DEFAULT_TIMEOUT,
            paste_window: DEFAULT_PASTE_WINDOW,
            open_browser: true,
        }
    }
}

/// What every service shares: the environment (decided once), the settings and the sink that
/// persists them, the secret store, the HTTP client, the OAuth tunables, and the auto-sync
/// interval that follows the settings.
pub(crate) struct Shared {
    env: Environment,
    settings: Mutex<Settings>,
    secrets: SecretStore,
    sink: SettingsSink,
    http: reqwest::Client,
    options: Mutex<CoreOptions>,
    auto: auto_sync::AutoSync,
}

impl Shared {
    /// A copy of the current settings.
    fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// The current OAuth tunables.
    fn options(&self) -> CoreOptions {
        lock(&self.options).clone()
    }

    /// Applies `change` to the settings and persists them through the sink; auto-sync follows
    /// the interval they hold.
    fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<(), Error> {
        let snapshot = {
            let mut s = lock(&self.settings);
            change(&mut s);
            s.clone()
        };
        self.auto.settings_changed(snapshot.options.auto_sync_minutes);
        (self.sink)(&snapshot).map_err(|e| {
            Error::new(
                ErrorCode::SettingsInvalid,
                format!("The settings could not be saved: {e}. Check the disk space and permissions of the app data folder"),
            )
        })
    }
}

/// The connections service (`hubspot.rs`, `didomi.rs`): the API clients, the accounts the
/// Connect screen shows, the OAuth install in progress and the keychain's state.
pub struct Connections {
    shared: Arc<Shared>,
    hubspot: tokio::sync::Mutex<Option<Arc<HubSpotClient>>>,
    hubspot_account: Mutex<Option<HubSpotAccount>>,
    hubspot_notice: Mutex<Option<String>>,
    didomi: tokio::sync::Mutex<Option<Arc<DidomiClient>>>,
    didomi_account: Mutex<Option<DidomiAccount>>,
    install: tokio::sync::Mutex<Option<hubspot::PendingInstall>>,
    install_cancel: Mutex<CancellationToken>,
    keychain: Mutex<KeychainStatus>,
    /// Held while the keychain is probed: a status asked during the probe started at launch
    /// waits for its answer instead of probing again.
    keychain_probe: tokio::sync::Mutex<()>,
    this: Weak<Connections>,
}

/// The configuration service (`mapping.rs`, `options.rs`, `config_file.rs`): the mapping, the
/// sync options and configuration files, with the live schemas last read.
pub struct Configuration {
    shared: Arc<Shared>,
    conn: Arc<Connections>,
    schemas: Mutex<Option<Arc<mapping::Schemas>>>,
}

/// The runs service (`push.rs`, `pull.rs`, `auto_sync.rs`, `inspect.rs`): pushes, pulls,
/// auto-sync, History and the inspector; one run at a time, and the pacers and databases runs
/// share.
pub struct Runs {
    shared: Arc<Shared>,
    conn: Arc<Connections>,
    config: Arc<Configuration>,
    /// The cancel token of the run going on (push or pull: one at a time).
    running: Mutex<Option<CancellationToken>>,
    resources: crate::jobs::RunResources,
    this: Weak<Runs>,
}

impl Runs {
    /// Marks a sync as running until the returned guard is dropped, or refuses with
    /// `SyncAlreadyRunning` when one is (push and pull share the mark: one run at a time).
    fn begin(&self, cancel: CancellationToken) -> Result<RunningGuard<'_>, Error> {
        let mut running = lock(&self.running);
        if running.is_some() {
            return Err(Error::new(
                ErrorCode::SyncAlreadyRunning,
                "A sync is already running: wait for it to finish or cancel it, then start again.",
            ));
        }
        *running = Some(cancel);
        Ok(RunningGuard(self))
    }

    /// Cancels the running sync, if any; it stops after the batches in flight.
    fn cancel(&self) {
        if let Some(t) = lock(&self.running).as_ref() {
            t.cancel();
        }
    }
}

/// The facade: a thin root over the environment and settings, owning the connections,
/// configuration and runs services. See the crate docs for the contract.
pub struct Core {
    shared: Arc<Shared>,
    connections: Arc<Connections>,
    configuration: Arc<Configuration>,
    runs: Arc<Runs>,
}

/// `Debug` for the root and the services: the mode only (no client, account or secret).
macro_rules! debug_mode {
    ($($t:ident),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("mode", &self.shared.env.mode)
                    .finish_non_exhaustive()
            }
        }
    )*};
}
debug_mode!(Core, Connections, Configuration, Runs);

/// Clears the running mark when a run ends (or its future is dropped).
pub(crate) struct RunningGuard<'a>(&'a Runs);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.0.running) = None;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Core {
    /// Builds the facade from the environment (decided once), the loaded settings, the secret
    /// store and the sink that persists settings.
    pub fn new(
        env: Environment,
        settings: Settings,
        secrets: SecretStore,
        sink: SettingsSink,
    ) -> Arc<Core> {
        let auto = auto_sync::AutoSync::new(settings.options.auto_sync_minutes);
        let shared = Arc::new(Shared {
            env,
            settings: Mutex::new(settings),
            secrets,
            sink,
            http: crate::hubspot::client::http_client(),
            options: Mutex::new(CoreOptions::default()),
            auto,
        });
        let connections = Arc::new_cyclic(|this| Connections {
            shared: shared.clone(),
            hubspot: Default::default(),
            hubspot_account: Default::default(),
            hubspot_notice: Default::default(),
            didomi: Default::default(),
            didomi_account: Default::default(),
            install: Default::default(),
            install_cancel: Default::default(),
            keychain: Mutex::new(KeychainStatus::Unknown),
            keychain_probe: tokio::sync::Mutex::new(()),
            this: this.clone(),
        });
        let configuration = Arc::new(Configuration {
            shared: shared.clone(),
            conn: connections.clone(),
            schemas: Mutex::new(None),
        });
        let runs = Arc::new_cyclic(|this| Runs {
            shared: shared.clone(),
            conn: connections.clone(),
            config: configuration.clone(),
            running: Mutex::new(None),
            resources: crate::jobs::RunResources::default(),
            this: this.clone(),
        });
        Arc::new(Core { shared, connections, configuration, runs })
    }

    /// The connections service: HubSpot install and tokens, Didomi, status, the API clients.
    pub fn connections(&self) -> &Arc<Connections> {
        &self.connections
    }

    /// The configuration service: mapping, options, configuration files.
    pub fn configuration(&self) -> &Arc<Configuration> {
        &self.configuration
    }

    /// The runs service: push, pull, auto-sync, History, the inspector.
    pub fn runs(&self) -> &Arc<Runs> {
        &self.runs
    }

    /// Changes the OAuth flow tunables.
    pub fn set_options(&self, options: CoreOptions) {
        *lock(&self.shared.options) = options;
    }

    /// The current tunables.
    pub fn options(&self) -> CoreOptions {
        self.shared.options()
    }

    /// What the UI shows about the environment.
    pub fn environment(&self) -> EnvironmentInfo {
        let env = &self.shared.env;
        EnvironmentInfo {
            mode: env.mode,
            hubspot_api_base: env.hubspot_api_base.to_string(),
            didomi_api_base: env.didomi_api_base.to_string(),
            redirect_uris: env.redirect_uris(),
            keychain: lock(&self.connections.keychain).clone(),
            prefill: env.prefill.as_ref().map(PrefillInfo::from),
        }
    }

    /// The environment as given.
    pub fn env(&self) -> &Environment {
        &self.shared.env
    }

    /// A copy of the current settings.
    pub fn settings(&self) -> Settings {
        self.shared.settings()
    }

    /// The secret store (for later features).
    pub fn secrets(&self) -> &SecretStore {
        &self.shared.secrets
    }
}

impl Connections {
    /// Probes the keychain (once it worked, the result is kept) and returns its state. The
    /// shell starts a probe at launch, in the background, so that the first status the window
    /// asks for finds it done (or waits for it) rather than paying for a second one.
    pub async fn probe_keychain(&self) -> KeychainStatus {
        let _probing = self.keychain_probe.lock().await;
        if let KeychainStatus::Available = &*lock(&self.keychain) {
            return KeychainStatus::Available;
        }
        let status = self.shared.secrets.probe().await;
        *lock(&self.keychain) = status.clone();
        status
    }

    /// The connection status of both systems, the keychain and whether both hosts answer.
    pub async fn status(&self) -> ConnectionStatus {
        let keychain = self.probe_keychain().await;
        let env = &self.shared.env;
        let (hubspot_api_reachable, didomi_api_reachable) = tokio::join!(
            self.reachable(&env.hubspot_api_base),
            self.reachable(&env.didomi_api_base)
        );
        ConnectionStatus {
            hubspot: self.hubspot_status().await,
            didomi: self.didomi_status(),
            keychain,
            hubspot_api_reachable,
            didomi_api_reachable,
        }
    }

    async fn reachable(&self, base: &url::Url) -> bool {
        let r = self.shared.http.get(base.clone()).timeout(Duration::from_secs(3)).send().await;
        match r {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(host = ?base.host_str(), error = %e, "API host not reachable");
                false
            }
        }
    }
}

/// Now as RFC 3339.
fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
