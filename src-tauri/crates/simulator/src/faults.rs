//! Fault injection (placeholder; being written).
use std::sync::Arc;

/// Which simulated API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// HubSpot.
    HubSpot,
    /// Didomi.
    Didomi,
}

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {}

/// Live fault switches.
#[derive(Debug)]
pub struct Faults {
    _config: std::sync::Mutex<FaultConfig>,
}

impl Faults {
    /// Switches set to `config`.
    pub fn new(config: FaultConfig) -> Self {
        Self { _config: std::sync::Mutex::new(config) }
    }
}

/// Wraps a router with the fault layer.
pub fn layer(router: axum::Router, _faults: Arc<Faults>, _api: Api) -> axum::Router {
    router
}
