/**
 * The sync and history types the Sync and History screens use, named and shaped as the core's
 * contract (`dhs_core::sync::dto`) and the shell's `CsvExport`. Written out here until their
 * ts-rs bindings are committed in `src/bindings/`; then this file only re-exports those.
 */

/** Which way a run goes (Pull and Both come with the bidirectional flow). */
export type SyncDirection = 'Push' | 'Pull' | 'Both'

/** What the UI asks the core to run. */
export interface SyncRequest {
  direction: SyncDirection
  /** Plan only: read both sides and report what would change, write nothing. */
  dryRun: boolean
  /** Full reconcile: compare every person, not only those changed since the last run. */
  full: boolean
}

/** One progress update, streamed at most ~10 times a second. */
export interface SyncProgress {
  runId: number
  /** `reading`, `writing` or `finishing`. */
  phase: string
  read: number
  toWrite: number
  written: number
  created: number
  updated: number
  unchanged: number
  skipped: number
  invalid: number
  duplicates: number
  failed: number
  ratePerS: number
  etaSeconds: number | null
  elapsedMs: number
}

/** The state of a run. */
export type RunStatus = 'Running' | 'Succeeded' | 'Partial' | 'Failed' | 'Cancelled' | 'Interrupted'

/** The counts of a run. */
export interface RunCounts {
  read: number
  toWrite: number
  written: number
  created: number
  updated: number
  unchanged: number
  skipped: number
  invalid: number
  duplicates: number
  failed: number
}

/** One row of the history. */
export interface RunSummary {
  id: number
  direction: SyncDirection
  mode: 'incremental' | 'full'
  dryRun: boolean
  startedAt: string
  finishedAt: string | null
  durationMs: number | null
  status: RunStatus
  counts: RunCounts
  message: string | null
}

/** A person a dry run found invalid, with why. */
export interface InvalidSample {
  email: string
  reason: string
}

/** One property of the sample contact, before and after. */
export interface PropertyChange {
  property: string
  before: string | null
  after: string | null
}

/** What a dry run found. */
export interface DryRunPlan {
  toCreate: number
  toUpdate: number
  unchanged: number
  skippedNoContact: number
  invalid: number
  duplicates: number
  samples: { create: string[]; update: string[]; skipped: string[]; invalid: InvalidSample[] }
  sampleChanges: { email: string; changes: PropertyChange[] } | null
}

/** What `sync_run` returns. */
export interface RunReport {
  summary: RunSummary
  plan: DryRunPlan | null
}

/** One failed or skipped record of a run. */
export interface RecordOutcome {
  email: string
  action: 'create' | 'update' | 'skip' | 'invalid' | 'duplicate'
  status: 'failed' | 'skipped'
  category: string | null
  message: string
  correlationId: string | null
}

/** Where a failures CSV was written (`null` from the command when the dialog was closed). */
export interface CsvExport {
  path: string
  rows: number
}
