/**
 * Pure helpers of the Sync and History screens: number, rate, duration and time formatting,
 * status labels, and why a sync cannot run (from the connection status and settings before a
 * run, or from the core's refusal after one).
 */
import type { ConnectionStatus } from '../bindings/ConnectionStatus'
import type { ErrorCode } from '../bindings/ErrorCode'
import type { Settings } from '../bindings/Settings'
import type { BackendError } from './errors'
import type { RecordOutcome, RunCounts, RunStatus, RunSummary } from './syncTypes'

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** `12345` → `12,345`. */
export function formatCount(n: number): string {
  return INTEGER.format(n)
}

/** Records per second: one decimal under 10/s, whole numbers above. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '—'
  const digits = perSecond < 10 ? 1 : 0
  return `${perSecond.toFixed(digits)}/s`
}

/** A duration in milliseconds as `850 ms`, `42 s`, `3 min 05 s` or `1 h 02 min`. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const min = Math.floor(s / 60)
  if (min < 60) return `${min} min ${String(s % 60).padStart(2, '0')} s`
  const h = Math.floor(min / 60)
  return `${h} h ${String(min % 60).padStart(2, '0')} min`
}

/** Time left from the core's estimate (`null` = not known yet). */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return 'estimating…'
  return formatDuration(seconds * 1000)
}

/**
 * An RFC 3339 timestamp in the user's locale, short (`27/11/2026, 17:01:42`). The core writes
 * nanoseconds (`…:35.183628785Z`), which not every engine's `Date` parses: cut to milliseconds.
 */
export function formatTime(rfc3339: string): string {
  const d = new Date(rfc3339.replace(/(\.\d{3})\d+/, '$1'))
  if (Number.isNaN(d.getTime())) return rfc3339
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })
}

/**
 * What each count of a run is called, in the same words on the Sync card, the run detail, the
 * progress line and the History table.
 */
export const COUNT_LABEL: Record<keyof RunCounts, string> = {
  read: 'Read',
  toWrite: 'To write',
  written: 'Written',
  created: 'Created',
  updated: 'Updated',
  unchanged: 'Unchanged',
  skipped: 'Skipped (no contact)',
  invalid: 'Invalid',
  duplicates: 'Duplicates',
  failed: 'Failed'
}

/** The counts of records that were not written: what the CSV export holds. */
export const NOT_WRITTEN: (keyof RunCounts)[] = ['skipped', 'invalid', 'duplicates', 'failed']

/** How many records of a run were not written (skipped, invalid, duplicate or failed). */
export function notWrittenCount(counts: RunCounts): number {
  return NOT_WRITTEN.reduce((sum, k) => sum + counts[k], 0)
}

/** The outcome of one record not written, in the words of `COUNT_LABEL` (singular, lowercase). */
export function recordOutcome(r: Pick<RecordOutcome, 'status' | 'action'>): string {
  if (r.status === 'failed') return 'failed'
  if (r.action === 'invalid') return 'invalid'
  if (r.action === 'duplicate') return 'duplicate'
  return 'skipped (no contact)'
}

/**
 * The runs History's chart draws, oldest first: the newest `max` pushes that wrote (dry runs
 * and pulls are left out, as its legend says).
 */
export function chartedRuns(runs: RunSummary[], max: number): RunSummary[] {
  return runs
    .filter((r) => !r.dryRun && r.direction !== 'Pull')
    .slice(0, max)
    .reverse()
}

/** Percentage done (0–100) of a run, from written + failed over to write. */
export function percentDone(written: number, failed: number, toWrite: number): number {
  if (toWrite <= 0) return 0
  return Math.min(100, Math.round(((written + failed) / toWrite) * 100))
}

/** What each status is called in the UI (the badge text; the real-window test reads it). */
export const STATUS_LABEL: Record<RunStatus, string> = {
  Running: 'Running',
  Succeeded: 'Succeeded',
  Partial: 'Partial',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
  Interrupted: 'Interrupted'
}

/** One sentence on what each final status means. */
export const STATUS_HELP: Record<RunStatus, string> = {
  Running: 'The run is still going.',
  Succeeded: 'Every record was handled.',
  Partial: 'Some records failed; the others were written.',
  Failed: 'The run stopped on an error before it could finish.',
  Cancelled: 'Stopped on request after the batches in flight; what was written stays written.',
  Interrupted: 'The app stopped during the run; the next run picks up where it left off.'
}

/** The badge colour of each status. */
export function statusTone(status: RunStatus): 'ok' | 'warn' | 'bad' | 'neutral' {
  switch (status) {
    case 'Succeeded':
      return 'ok'
    case 'Partial':
    case 'Interrupted':
    case 'Cancelled':
      return 'warn'
    case 'Failed':
      return 'bad'
    default:
      return 'neutral'
  }
}

/** "Dry run", "Incremental" or "Full reconcile". */
export function modeLabel(run: Pick<RunSummary, 'dryRun' | 'mode'> & { auto?: boolean }): string {
  if (run.dryRun) return run.mode === 'full' ? 'Dry run (full)' : 'Dry run'
  const mode = run.mode === 'full' ? 'Full reconcile' : 'Incremental'
  return run.auto === true ? `${mode} (auto-sync)` : mode
}

/** "Didomi → HubSpot" and friends. */
export function directionLabel(direction: RunSummary['direction']): string {
  switch (direction) {
    case 'Push':
      return 'Didomi → HubSpot'
    case 'Pull':
      return 'HubSpot → Didomi'
    default:
      return 'Both ways'
  }
}

/** A screen that fixes a blocked sync. */
export type FixScreen = 'connect' | 'mapping'

/** Why a sync cannot run and where to fix it. */
export interface Blocked {
  /** The error code the core uses for this refusal. */
  code: ErrorCode
  /** What is wrong and what to do. */
  message: string
  /** The screen to open. */
  screen: FixScreen
  /** The link's text. */
  action: string
}

/**
 * Why a sync cannot start, known before asking the core: a system not connected or an empty
 * mapping. The core re-checks (and also finds stale mapping entries) when the run starts.
 */
export function blockedBefore(status: ConnectionStatus, settings: Settings | null): Blocked | null {
  if (status.hubspot.state !== 'connected') {
    return {
      code: 'HubSpotNotConnected',
      message:
        status.hubspot.state === 'reconnectNeeded'
          ? 'HubSpot needs to be reconnected before a sync can run.'
          : 'HubSpot is not connected. Connect it first.',
      screen: 'connect',
      action: 'Open Connect'
    }
  }
  if (status.didomi.state !== 'connected') {
    return {
      code: 'DidomiNotConnected',
      message: 'Didomi is not connected. Connect it first.',
      screen: 'connect',
      action: 'Open Connect'
    }
  }
  if (settings !== null && settings.mapping.entries.length === 0) {
    return {
      code: 'MappingEmpty',
      message:
        'Nothing is mapped yet: map at least one Didomi purpose or preference to a HubSpot property.',
      screen: 'mapping',
      action: 'Open Mapping'
    }
  }
  return null
}

/** The codes with which the core refuses to start a run, and the screen that fixes each. */
const REFUSALS: Partial<Record<ErrorCode, { screen: FixScreen; action: string }>> = {
  HubSpotNotConnected: { screen: 'connect', action: 'Open Connect' },
  HubSpotReconnectNeeded: { screen: 'connect', action: 'Open Connect' },
  HubSpotMissingScopes: { screen: 'connect', action: 'Open Connect' },
  DidomiNotConnected: { screen: 'connect', action: 'Open Connect' },
  MappingEmpty: { screen: 'mapping', action: 'Open Mapping' },
  MappingStale: { screen: 'mapping', action: 'Open Mapping' }
}

/** A refusal of the core to start (its message names what is wrong), or `null` for other errors. */
export function blockedFromError(error: BackendError): Blocked | null {
  const fix = REFUSALS[error.code]
  return fix === undefined ? null : { code: error.code, message: error.message, ...fix }
}
