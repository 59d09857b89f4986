//! What every run shares, with no direction in it: the HubSpot request pacer ([`pacer`]), the
//! one retry policy for HubSpot and Didomi calls ([`retry`]), the one SQLite store of run
//! history, per-record outcomes and per-contact state of both directions ([`store`]), the
//! opening lock and the one-run-at-a-time lock ([`lock`]), HubSpot's daily-limit guard
//! ([`daily`]), the types that cross to the UI ([`dto`]: [`SyncRequest`], [`SyncProgress`],
//! [`RunReport`]…) and the auto-sync scheduler ([`auto`]).
//!
//! The push ([`crate::push`]) and the pull ([`crate::pull`]) are built on it; their jobs are
//! made by [`crate::jobs`] only.

pub mod auto;
pub mod daily;
pub mod dto;
pub mod lock;
pub mod pacer;
pub mod retry;
pub mod store;

pub use dto::*;
pub use pacer::Pacer;
pub use store::Store;

/// The key that ties sync state (per-contact fingerprints, HubSpot ids, pull counters) to one
/// HubSpot host, portal and Didomi organization. The push and the pull must build it the same
/// way, or one would not see the other's state (and echo writes back).
pub fn state_scope(hubspot_base: &str, portal: &str, organization: &str) -> String {
    format!("{hubspot_base}|{portal}|{organization}")
}
