//! The pull (HubSpot → Didomi, the bidirectional flow): a HubSpot workflow increments the
//! "Didomi Changed" counter of a contact when a mapped property changes; the app finds those
//! contacts (no full scan: a keyset search walk from a watermark, see
//! [`crate::hubspot::search::ChangedFinder`]), turns their mapped values back into Didomi terms
//! and writes only what differs as consent events.
//!
//! - [`decode`]: HubSpot values → Didomi items, the per-contact decision, conflicts;
//! - [`state`]: the pull's SQLite state (watermark, per-contact counter and agreed values,
//!   the pull settings);
//! - [`run`]: the run itself, on the push's history, progress, pacing and retry machinery.
//!
//! No echo: a push followed by a pull writes nothing back (HubSpot then equals Didomi, so
//! nothing differs, even when the workflow bumped the counter in response to the push); a
//! pull followed by a push writes nothing back either (the pull stores the push's fingerprint
//! of the values it made equal on both sides).

pub mod decode;
pub mod run;
pub mod state;

pub use decode::{Conflict, ConflictWinner};
pub use run::{pull, PullConfig, PullJob, PullPlan, PullReport};
pub use state::{PullSettings, PullState};
