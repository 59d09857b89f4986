//! Didomi: API-key sessions, the organization's PMP configuration (purposes, preferences,
//! configuration tree), and the typed client.
//!
//! Files: [`session`] (`POST /v1/sessions`, token cache and re-mint), [`client`] (bearer auth,
//! 401 → re-mint once, error parsing), [`config`] (configuration reading), [`error`],
//! [`models`] (wire types). Every path carries the `/v1` prefix (didomi-api.md §1).

pub mod client;
pub mod config;
pub mod consents;
pub mod error;
pub mod events;
pub mod models;
pub mod session;

pub use client::DidomiClient;
pub use error::{Error, Result};
pub use session::Session;
