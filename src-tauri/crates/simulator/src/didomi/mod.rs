//! The simulated Didomi organization (placeholder; being written).
use std::sync::Arc;

/// State of the simulated Didomi.
#[derive(Debug)]
pub struct Didomi;

impl Didomi {
    /// Seeds an organization from the config.
    pub fn new(_config: &crate::Config, _clock: crate::Clock) -> Self {
        Self
    }
    /// The seeded API key.
    pub fn api_key(&self) -> crate::DidomiApiKey {
        crate::DidomiApiKey { key: "sim-key".into(), secret: "sim-secret".into() }
    }
    /// The seeded organization id.
    pub fn organization_id(&self) -> String {
        "acme-org".into()
    }
}

/// The Didomi routes.
pub fn router(state: Arc<Didomi>) -> axum::Router {
    axum::Router::new().with_state(state)
}
