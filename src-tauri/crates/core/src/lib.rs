//! Core of the Didomi ⇄ HubSpot sync app: settings, secrets, the HubSpot OAuth install and API
//! client, the Didomi client, and the [`Core`] facade the Tauri shell calls. No Tauri here.
//!
//! # The core ⇄ shell contract
//!
//! - [`environment`]: [`Environment`] is decided ONCE at startup by the shell
//!   ([`Environment::live`] or [`Environment::sandbox`]); nothing below knows the mode.
//! - [`settings`]: one typed, versioned [`Settings`] struct; the shell persists
//!   [`Settings::to_json`] with tauri-plugin-store and loads it with [`Settings::from_json`].
//!   Never a secret inside.
//! - [`secrets`]: [`Secret`] (prints `<redacted>`, no `Serialize`), [`SecretStore`]
//!   (`keyring` Secret Service, every call in `spawn_blocking`; or `memory()` for tests).
//! - [`Core`]: `Core::new(env, settings, secrets, sink) -> Arc<Core>`, then `environment()`,
//!   `settings()` and three services: [`Core::connections`] (`status()`,
//!   `hubspot_install_start/wait/cancel/paste`, `hubspot_connect_private_token`,
//!   `hubspot_disconnect`, `didomi_connect`, `didomi_disconnect`, the `hubspot()` / `didomi()`
//!   clients), [`Core::configuration`] (mapping, options, configuration files) and
//!   [`Core::runs`] (push, pull, auto-sync, History, the inspector).
//! - Errors crossing to the UI are [`Error`] = `{ code: ErrorCode, message }`; the UI branches on
//!   [`ErrorCode`].
//! - IPC types derive `ts_rs::TS`; `cargo test -p dhs-core` writes them to `ui/src/bindings`.
//!
//! Sandbox prefill: when the UI leaves a secret field empty in Sandbox mode, the simulator's
//! secret from [`Prefill`] is used, so secrets never travel to the UI even in Sandbox.
//!
//! ```no_run
//! # async fn demo() {
//! use dhs_core::{Core, Environment, SecretStore, Settings};
//! let env = Environment::live("/tmp/dhs".into());
//! let core = Core::new(env, Settings::default(), SecretStore::keyring("didomi-hubspot-sync"),
//!     Box::new(|_settings| Ok(())));
//! let start = core.connections().hubspot_install_start("client-id".into(), Some("secret".into())).await;
//! # }
//! ```

#![deny(missing_docs)]

pub mod browser;
pub mod config_file;
pub mod didomi;
pub mod environment;
pub mod error;
mod facade;
pub mod hubspot;
pub mod inspect;
pub mod jobs;
pub mod mapping;
pub mod options;
pub mod pull;
pub mod push;
pub mod run;
pub mod secrets;
pub mod settings;
pub mod settings_file;
pub mod text;

pub use environment::{Environment, EnvironmentInfo, Mode, Prefill, PrefillInfo};
pub use error::{Error, ErrorCode};
pub use facade::inspect::InspectSync;
pub use facade::mapping::{MappingReady, MappingView, Schemas};
pub use facade::pull::{GuideStep, SimulatedWorkflow, WorkflowGuide};
pub use facade::{
    Configuration, ConnectionStatus, Connections, Core, CoreOptions, DidomiAccount, DidomiState,
    DidomiStatus, HubSpotAccount, HubSpotState, HubSpotStatus, InstallStart, NamedItem, Runs,
    SettingsSink, DEFAULT_PASTE_WINDOW,
};
pub use options::BidirectionalSetup;
pub use pull::workflow::{CheckStatus, WorkflowCheck};
pub use run::{
    DryRunPlan, RecordOutcome, RunCounts, RunReport, RunStatus, RunSummary, SyncDirection,
    SyncProgress, SyncRequest,
};
pub use secrets::{KeychainStatus, Secret, SecretKey, SecretStore};
pub use settings::{Settings, SettingsError};
