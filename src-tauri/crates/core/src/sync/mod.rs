//! The push sync (Didomi → HubSpot): engine, pacer, state database and run history.
//!
//! - [`dto`]: the types that cross to the UI ([`SyncRequest`], [`SyncProgress`], [`RunReport`]…);
//! - [`engine`]: [`engine::push`], the streamed, batched, paced and resumable push;
//! - [`daily`]: the daily-limit guard of a run (push or pull);
//! - [`pacer`]: the sliding-window request pacer (one per portal);
//! - [`store`]: the SQLite state (per-email fingerprints, HubSpot ids, in-flight marks) and
//!   history (runs, per-record failures and skips, CSV export);
//! - [`values`]: the mapped property values of a Didomi user, the email rule, fingerprints.
//!
//! The `Core` facade (`push_run`, `run_cancel`, `history_*`) wraps these for the app; the
//! headless CLI calls [`engine::push`] directly with its own clients.

pub mod auto;
pub mod automap;
pub mod daily;
pub mod dto;
pub mod engine;
pub mod lock;
pub mod pacer;
pub mod retry;
pub mod store;
pub mod values;

pub use dto::*;
pub use engine::{push, push_only, EngineConfig, PushJob};
pub use pacer::Pacer;
pub use store::Store;

/// The key that ties sync state (per-contact fingerprints, HubSpot ids, pull counters) to one
/// HubSpot host, portal and Didomi organization. The push and the pull must build it the same
/// way, or one would not see the other's state (and echo writes back).
pub fn state_scope(hubspot_base: &str, portal: &str, organization: &str) -> String {
    format!("{hubspot_base}|{portal}|{organization}")
}
