//! The pull (HubSpot → Didomi, the bidirectional flow): a HubSpot workflow increments the
//! "Didomi Changed" counter of a contact when a mapped property changes; the app finds those
//! contacts (no full scan: a keyset search walk from a watermark, see
//! [`crate::hubspot::search::ChangedFinder`]), turns their mapped values back into Didomi terms
//! and writes only what differs as consent events.
//!
//! - [`decode`]: HubSpot values → Didomi items, the per-contact decision, conflicts;
//! - [`state`]: the pull's part of the one state database (watermark, per-contact counter and
//!   agreed values), and the import of the released version's `pull.sqlite3`;
//! - [`run`]: the run itself, on the push's history, progress, pacing and retry machinery.
//!
//! No echo: a push followed by a pull writes nothing back (HubSpot then equals Didomi, so
//! nothing differs, even when the workflow bumped the counter in response to the push); a
//! pull followed by a push writes nothing back either (the pull stores the push's fingerprint
//! of the values it made equal on both sides).

pub mod decode;
pub mod run;
pub mod state;
pub mod workflow;

pub use decode::{Conflict, ConflictWinner};
pub use run::{pull, pull_only, PullConfig, PullJob, PullPlan, PullReport};
pub use state::{FailedContact, Handled, PullState, PulledContact};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::settings::Settings;

/// The pull's settings as the Workflow screen edits them: a view of [`Settings`] (conflict
/// winner and forwarding in `options`, the guide's ticks in `workflow_steps`). Auto-sync has
/// its own command (`Runs::auto_sync_set`), so a save here never touches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct PullSettings {
    /// Who wins when both sides changed the same item since the last sync.
    pub conflict_winner: ConflictWinner,
    /// Forward pulled changes to Didomi's other integrations (off: `$disable_integrations`).
    pub forward_to_integrations: bool,
    /// The workflow guide's steps the admin ticked (1-based step numbers).
    pub checked_steps: Vec<u8>,
}

impl Default for PullSettings {
    fn default() -> Self {
        Self::from_settings(&Settings::default())
    }
}

impl PullSettings {
    /// The pull's part of `s`.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            conflict_winner: s.options.conflict_winner,
            forward_to_integrations: s.options.forward_to_integrations,
            checked_steps: s.workflow_steps.clone(),
        }
    }

    /// Writes these values into `s`.
    pub fn apply_to(&self, s: &mut Settings) {
        s.options.conflict_winner = self.conflict_winner;
        s.options.forward_to_integrations = self.forward_to_integrations;
        s.workflow_steps.clone_from(&self.checked_steps);
    }
}
