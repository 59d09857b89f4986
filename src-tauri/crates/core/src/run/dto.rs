//! The sync types that cross to the UI (and the CLI's JSON report): request, progress, run
//! summary, dry-run plan, report and per-record outcomes. All camelCase, exported with ts-rs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which way a run goes. Only [`SyncDirection::Push`] (Didomi → HubSpot) exists so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum SyncDirection {
    /// Didomi → HubSpot.
    Push,
    /// HubSpot → Didomi (bidirectional flow; not available yet).
    Pull,
    /// Both ways (not available yet).
    Both,
}

impl SyncDirection {
    /// Lowercase name kept in the history database.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncDirection::Push => "push",
            SyncDirection::Pull => "pull",
            SyncDirection::Both => "both",
        }
    }

    /// Inverse of [`SyncDirection::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "push" => Some(SyncDirection::Push),
            "pull" => Some(SyncDirection::Pull),
            "both" => Some(SyncDirection::Both),
            _ => None,
        }
    }
}

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SyncRequest {
    /// Direction.
    pub direction: SyncDirection,
    /// Plan only: read both sides, report what would change, write nothing.
    pub dry_run: bool,
    /// Full reconcile: compare every person with HubSpot's current values (batch reads),
    /// instead of only the people whose mapped values changed since the last push.
    pub full: bool,
}

/// Incremental or full reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum RunMode {
    /// Only people whose mapped values changed since the last push.
    Incremental,
    /// Everyone, compared with HubSpot's current values.
    Full,
}

impl RunMode {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Incremental => "incremental",
            RunMode::Full => "full",
        }
    }
}

/// The counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct RunCounts {
    /// Didomi users read.
    #[ts(type = "number")]
    pub read: u64,
    /// Contacts found to need a write.
    #[ts(type = "number")]
    pub to_write: u64,
    /// Contacts written (created + updated).
    #[ts(type = "number")]
    pub written: u64,
    /// Contacts created (upsert mode).
    #[ts(type = "number")]
    pub created: u64,
    /// Existing contacts updated.
    #[ts(type = "number")]
    pub updated: u64,
    /// People whose values did not change (nothing sent).
    #[ts(type = "number")]
    pub unchanged: u64,
    /// People skipped: no HubSpot contact and upsert mode off.
    #[ts(type = "number")]
    pub skipped: u64,
    /// People without a valid email.
    #[ts(type = "number")]
    pub invalid: u64,
    /// Older Didomi users sharing an email with a newer one (the newest wins).
    #[ts(type = "number")]
    pub duplicates: u64,
    /// Records that could not be written.
    #[ts(type = "number")]
    pub failed: u64,
}

/// One progress update (at most ~10 a second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SyncProgress {
    /// The run.
    #[ts(type = "number")]
    pub run_id: i64,
    /// `scanning` (the push listing every Didomi user first), `reading`, `writing` or
    /// `finishing`.
    pub phase: String,
    /// Didomi users read.
    #[ts(type = "number")]
    pub read: u64,
    /// Contacts found to need a write.
    #[ts(type = "number")]
    pub to_write: u64,
    /// Contacts written.
    #[ts(type = "number")]
    pub written: u64,
    /// Contacts created.
    #[ts(type = "number")]
    pub created: u64,
    /// Contacts updated.
    #[ts(type = "number")]
    pub updated: u64,
    /// Unchanged people.
    #[ts(type = "number")]
    pub unchanged: u64,
    /// Skipped people.
    #[ts(type = "number")]
    pub skipped: u64,
    /// Invalid people.
    #[ts(type = "number")]
    pub invalid: u64,
    /// Duplicate users.
    #[ts(type = "number")]
    pub duplicates: u64,
    /// Failed records.
    #[ts(type = "number")]
    pub failed: u64,
    /// Contacts written per second so far.
    pub rate_per_s: f64,
    /// Estimated seconds left for the writes known so far.
    pub eta_seconds: Option<f64>,
    /// Time since the start.
    #[ts(type = "number")]
    pub elapsed_ms: u64,
}

impl SyncProgress {
    /// A progress update of run `run_id` in `phase` with these counts.
    pub fn from_counts(
        run_id: i64,
        phase: &str,
        c: &RunCounts,
        rate_per_s: f64,
        eta_seconds: Option<f64>,
        elapsed: std::time::Duration,
    ) -> Self {
        Self {
            run_id,
            phase: phase.into(),
            read: c.read,
            to_write: c.to_write,
            written: c.written,
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            skipped: c.skipped,
            invalid: c.invalid,
            duplicates: c.duplicates,
            failed: c.failed,
            rate_per_s,
            eta_seconds,
            elapsed_ms: elapsed.as_millis() as u64,
        }
    }
}

/// The state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum RunStatus {
    /// In progress.
    Running,
    /// Everything written (or nothing to write).
    Succeeded,
    /// Some records failed; the others were written.
    Partial,
    /// The run stopped on an error.
    Failed,
    /// Cancelled; what was written stays written, the rest is picked up by the next run.
    Cancelled,
    /// The app stopped during the run; the next run resumed it.
    Interrupted,
}

impl RunStatus {
    /// Name kept in the history database.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "Running",
            RunStatus::Succeeded => "Succeeded",
            RunStatus::Partial => "Partial",
            RunStatus::Failed => "Failed",
            RunStatus::Cancelled => "Cancelled",
            RunStatus::Interrupted => "Interrupted",
        }
    }

    /// Inverse of [`RunStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Partial,
            RunStatus::Failed,
            RunStatus::Cancelled,
            RunStatus::Interrupted,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// One row of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RunSummary {
    /// Run id.
    #[ts(type = "number")]
    pub id: i64,
    /// Direction.
    pub direction: SyncDirection,
    /// Incremental or full.
    pub mode: RunMode,
    /// A plan only.
    pub dry_run: bool,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end.
    pub finished_at: Option<String>,
    /// Duration.
    #[ts(type = "number | null")]
    pub duration_ms: Option<u64>,
    /// State.
    pub status: RunStatus,
    /// Counts.
    pub counts: RunCounts,
    /// What went wrong, or a note.
    pub message: Option<String>,
    /// Started by auto-sync rather than by hand.
    #[serde(default)]
    pub auto: bool,
}

/// A person a dry run found invalid, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct InvalidSample {
    /// The `organization_user_id` as Didomi has it.
    pub email: String,
    /// Why it is not usable.
    pub reason: String,
}

/// One property of the sample contact, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PropertyChange {
    /// HubSpot property.
    pub property: String,
    /// HubSpot's current value.
    pub before: Option<String>,
    /// The value the push writes.
    pub after: Option<String>,
}

/// The property changes of one sample contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SampleChanges {
    /// Contact email.
    pub email: String,
    /// Changed properties.
    pub changes: Vec<PropertyChange>,
}

/// Samples of each group of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PlanSamples {
    /// Emails that would be created.
    pub create: Vec<String>,
    /// Emails that would be updated.
    pub update: Vec<String>,
    /// Emails skipped (no contact, upsert off).
    pub skipped: Vec<String>,
    /// Invalid people.
    pub invalid: Vec<InvalidSample>,
    /// Duplicate users, with the user that won the email.
    #[serde(default)]
    pub duplicates: Vec<DuplicateSample>,
}

/// A Didomi user that shares its email with a newer one, and the one that won.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DuplicateSample {
    /// The normalized email.
    pub email: String,
    /// The Didomi user whose consents are pushed (newest change; on a tie, the id that sorts
    /// last). Empty when it changed again while the run was reading.
    pub kept_user: String,
    /// Its `updated_at`.
    pub kept_updated_at: String,
    /// The user not pushed.
    pub other_user: String,
    /// Its `updated_at`.
    pub other_updated_at: String,
}

/// What a dry run found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DryRunPlan {
    /// Contacts to create.
    #[ts(type = "number")]
    pub to_create: u64,
    /// Contacts to update.
    #[ts(type = "number")]
    pub to_update: u64,
    /// People unchanged.
    #[ts(type = "number")]
    pub unchanged: u64,
    /// People skipped (no contact, upsert off).
    #[ts(type = "number")]
    pub skipped_no_contact: u64,
    /// People without a valid email.
    #[ts(type = "number")]
    pub invalid: u64,
    /// Older duplicate users.
    #[ts(type = "number")]
    pub duplicates: u64,
    /// Samples.
    pub samples: PlanSamples,
    /// The property changes of one contact to update (or create).
    pub sample_changes: Option<SampleChanges>,
}

/// What `push_run` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RunReport {
    /// The run.
    pub summary: RunSummary,
    /// The plan (dry runs).
    pub plan: Option<DryRunPlan>,
}

/// What was attempted for a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum RecordAction {
    /// Creating a contact.
    Create,
    /// Updating a contact.
    Update,
    /// Skipped (no contact, upsert off).
    Skip,
    /// Not a valid email.
    Invalid,
    /// An older user sharing an email.
    Duplicate,
}

impl RecordAction {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordAction::Create => "create",
            RecordAction::Update => "update",
            RecordAction::Skip => "skip",
            RecordAction::Invalid => "invalid",
            RecordAction::Duplicate => "duplicate",
        }
    }

    /// Inverse of [`RecordAction::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            RecordAction::Create,
            RecordAction::Update,
            RecordAction::Skip,
            RecordAction::Invalid,
            RecordAction::Duplicate,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// Failed or skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum RecordStatus {
    /// The write failed.
    Failed,
    /// Not written on purpose.
    Skipped,
}

/// One failed or skipped record of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RecordOutcome {
    /// Email (or the unusable `organization_user_id`).
    pub email: String,
    /// What was attempted.
    pub action: RecordAction,
    /// Failed or skipped.
    pub status: RecordStatus,
    /// HubSpot error category (e.g. `VALIDATION_ERROR`), when HubSpot refused it.
    pub category: Option<String>,
    /// What happened.
    pub message: String,
    /// HubSpot correlation id, to quote to HubSpot support.
    pub correlation_id: Option<String>,
}

impl RecordOutcome {
    /// The outcome in the words the Sync card, the run detail and History use: `failed`,
    /// `skipped (no contact)`, `invalid` or `duplicate`.
    pub fn outcome(&self) -> &'static str {
        match (self.status, self.action) {
            (RecordStatus::Failed, _) => "failed",
            (RecordStatus::Skipped, RecordAction::Invalid) => "invalid",
            (RecordStatus::Skipped, RecordAction::Duplicate) => "duplicate",
            (RecordStatus::Skipped, _) => "skipped (no contact)",
        }
    }
}
