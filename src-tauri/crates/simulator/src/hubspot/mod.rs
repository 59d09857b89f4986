//! The simulated HubSpot portal (placeholder; being written).
use std::sync::Arc;

/// State of the simulated HubSpot.
#[derive(Debug)]
pub struct HubSpot {
    app: crate::HubSpotApp,
}

impl HubSpot {
    /// Seeds a portal from the config.
    pub fn new(config: &crate::Config, _clock: crate::Clock, _base_url: &str) -> Self {
        Self {
            app: crate::HubSpotApp {
                client_id: "sim-client-id".into(),
                client_secret: "sim-client-secret".into(),
                redirect_uris: config.redirect_uris.clone(),
            },
        }
    }
    /// The simulated app's OAuth credentials.
    pub fn app(&self) -> crate::HubSpotApp {
        self.app.clone()
    }
    /// A private-app token of the portal.
    pub fn private_app_token(&self) -> String {
        "pat-sim-0000".into()
    }
}

/// The HubSpot routes.
pub fn router(state: Arc<HubSpot>) -> axum::Router {
    axum::Router::new().with_state(state)
}
