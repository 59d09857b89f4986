/* eslint-disable @typescript-eslint/only-throw-error -- the real backend rejects with plain { code, message } objects, so the mock must too */
/**
 * The sync and history part of the browser test's fake backend (see mock-setup.ts). A push
 * stays pending until the test drives it: `window.__sync.emit(progress)` sends a progress
 * update through the command's Channel (calling its `onmessage`, as Rust's `Channel::send`
 * would), `window.__sync.finish(status)` resolves the run. `run_cancel` ends it as Cancelled
 * with the counts reached. A dry run answers at once with a plan. Auto-sync: `auto_sync_set`
 * validates as Rust does and answers the new status; `window.__sync.auto(change)` pushes a
 * status change (next run, a running auto run, its last outcome) through the watch Channel.
 */
import type { Channel } from '@tauri-apps/api/core'

import type { AutoSyncStatus } from '../src/bindings/AutoSyncStatus'

import type {
  RecordOutcome,
  RunReport,
  RunStatus,
  RunSummary,
  SyncProgress,
  SyncRequest
} from '../src/lib/syncTypes'

type Json = Record<string, unknown>

/** Scenario switches of the sync mock, set by a test before the app loads. */
export interface SyncScenario {
  /** `push_run` refuses with this error (e.g. `MappingStale`). */
  refuse?: { code: string; message: string }
  /** `push_check` refuses with this error (the check before any run). */
  check?: { code: string; message: string }
  /** Start with no run in the history. */
  emptyHistory?: boolean
}

const counts = (c: Partial<RunSummary['counts']> = {}): RunSummary['counts'] => ({
  read: 0,
  toWrite: 0,
  written: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  invalid: 0,
  duplicates: 0,
  failed: 0,
  ...c
})

const seeded: RunSummary[] = [
  {
    id: 3,
    direction: 'Push',
    mode: 'incremental',
    dryRun: false,
    startedAt: '2026-11-27T16:40:00Z',
    finishedAt: '2026-11-27T16:41:12Z',
    durationMs: 72_000,
    status: 'Partial',
    counts: counts({
      read: 2400,
      toWrite: 1300,
      written: 1180,
      created: 200,
      updated: 980,
      unchanged: 1100,
      skipped: 30,
      invalid: 5,
      duplicates: 2,
      failed: 120
    }),
    message: '120 records were refused by HubSpot.',
    auto: true
  },
  {
    id: 2,
    direction: 'Push',
    mode: 'full',
    dryRun: true,
    startedAt: '2026-11-27T16:30:00Z',
    finishedAt: '2026-11-27T16:30:20Z',
    durationMs: 20_000,
    status: 'Succeeded',
    counts: counts({ read: 2400, toWrite: 1300, unchanged: 1100, skipped: 30, invalid: 5 }),
    message: null,
    auto: false
  },
  {
    id: 1,
    direction: 'Push',
    mode: 'full',
    dryRun: false,
    startedAt: '2026-11-26T09:00:00Z',
    finishedAt: '2026-11-26T09:04:00Z',
    durationMs: 240_000,
    status: 'Succeeded',
    counts: counts({ read: 2000, toWrite: 2000, written: 2000, created: 2000 }),
    message: null,
    auto: false
  }
]

/**
 * Run 3's records not written: 120 refused by HubSpot, 30 skipped (no contact), 5 invalid and 2
 * duplicates (157 rows, 4 pages).
 */
function outcomes(runId: number): RecordOutcome[] {
  if (runId !== 3) return []
  const failed: RecordOutcome[] = Array.from({ length: 120 }, (_, i) => ({
    email: `person${i}@example.com`,
    action: i % 3 === 0 ? 'create' : 'update',
    status: 'failed',
    category: 'VALIDATION_ERROR',
    message: `Property values were not valid: "didomi_newsletter" = "maybe" is not one of the allowed options (row ${i}).`,
    correlationId: `0b6f3d2e-0000-4000-8000-${String(i).padStart(12, '0')}`
  }))
  const skipped: RecordOutcome[] = Array.from({ length: 30 }, (_, i) => ({
    email: `nocontact${i}@example.com`,
    action: 'skip',
    status: 'skipped',
    category: null,
    message: 'No HubSpot contact with this email and upsert is off.',
    correlationId: null
  }))
  const invalid: RecordOutcome[] = Array.from({ length: 5 }, (_, i) => ({
    email: `not-an-email-${i}`,
    action: 'invalid',
    status: 'skipped',
    category: null,
    message: 'Not pushed: the email has no @. Fix it in Didomi to include this person.',
    correlationId: null
  }))
  const duplicates: RecordOutcome[] = Array.from({ length: 2 }, (_, i) => ({
    email: `twice${i}@example.com`,
    action: 'duplicate',
    status: 'skipped',
    category: null,
    message:
      'Didomi user u-old shares this email with the newer user u-new, whose consents were pushed.',
    correlationId: null
  }))
  return [...failed, ...skipped, ...invalid, ...duplicates]
}

const plan = {
  toCreate: 40,
  toUpdate: 1260,
  unchanged: 1100,
  skippedNoContact: 30,
  invalid: 5,
  duplicates: 2,
  samples: {
    create: ['new1@example.com', 'new2@example.com'],
    update: ['anna@example.com', 'bob@example.com', 'chen@example.com'],
    skipped: ['nocontact0@example.com'],
    invalid: [
      { email: '', reason: 'no email' },
      { email: 'not-an-email', reason: 'malformed email' }
    ],
    duplicates: [
      {
        email: 'flip@example.com',
        keptUser: 'user-newer',
        keptUpdatedAt: '2026-11-02T10:00:00Z',
        otherUser: 'user-older',
        otherUpdatedAt: '2026-10-01T09:00:00Z'
      }
    ]
  },
  sampleChanges: {
    email: 'anna@example.com',
    changes: [
      { property: 'didomi_newsletter', before: 'false', after: 'true' },
      { property: 'didomi_topics', before: null, after: 'sports;news' }
    ]
  }
}

const sync = {
  runs: [] as RunSummary[],
  autoStatus: {
    revision: 0,
    intervalMinutes: null,
    nextRunAt: null,
    running: false,
    progress: null,
    last: null
  } as AutoSyncStatus,
  autoChannel: null as Channel<AutoSyncStatus> | null,
  /** Changes the auto-sync status and streams it, as the Rust scheduler does. */
  auto(change: Partial<AutoSyncStatus>) {
    const revision = Math.max(sync.autoStatus.revision, change.revision ?? 0) + 1
    sync.autoStatus = { ...sync.autoStatus, ...change, revision }
    sync.autoChannel?.onmessage(sync.autoStatus)
  },
  pending: null as null | {
    id: number
    request: SyncRequest
    channel: Channel<SyncProgress>
    startedAt: string
    last: SyncProgress | null
    resolve: (r: RunReport) => void
  },
  /** Sends one progress update to the running sync's Channel. */
  emit(p: Partial<SyncProgress>) {
    const run = sync.pending
    if (run === null) throw new Error('mock: no sync running')
    const progress: SyncProgress = {
      runId: run.id,
      phase: 'writing',
      ratePerS: 0,
      etaSeconds: null,
      elapsedMs: 0,
      ...counts(),
      ...(run.last ?? {}),
      ...p
    }
    run.last = progress
    run.channel.onmessage(progress)
  },
  /** Ends the running sync with `status` and the counts of the last progress update. */
  finish(status: RunStatus, message: string | null = null) {
    const run = sync.pending
    if (run === null) throw new Error('mock: no sync running')
    sync.pending = null
    const l = run.last
    const summary: RunSummary = {
      id: run.id,
      direction: run.request.direction,
      mode: run.request.full ? 'full' : 'incremental',
      dryRun: run.request.dryRun,
      startedAt: run.startedAt,
      finishedAt: new Date().toISOString(),
      durationMs: l?.elapsedMs ?? 0,
      status,
      counts: counts(
        l === null
          ? {}
          : {
              read: l.read,
              toWrite: l.toWrite,
              written: l.written,
              created: l.created,
              updated: l.updated,
              unchanged: l.unchanged,
              skipped: l.skipped,
              invalid: l.invalid,
              duplicates: l.duplicates,
              failed: l.failed
            }
      ),
      message,
      auto: false
    }
    sync.runs.unshift(summary)
    run.resolve({ summary, plan: null })
  }
}

/** Handles the sync and history commands; `undefined` for any other command. */
export function syncMock(cmd: string, args: Json, scenario: SyncScenario): unknown {
  switch (cmd) {
    case 'push_run': {
      if (scenario.refuse !== undefined) throw scenario.refuse
      if (sync.pending !== null) {
        throw { code: 'SyncAlreadyRunning', message: 'A sync is already running.' }
      }
      const request = args.request as SyncRequest
      const id = 4 + sync.runs.length
      const startedAt = new Date().toISOString()
      if (request.dryRun) {
        const summary: RunSummary = {
          id,
          direction: request.direction,
          mode: request.full ? 'full' : 'incremental',
          dryRun: true,
          startedAt,
          finishedAt: startedAt,
          durationMs: 1800,
          status: 'Succeeded',
          counts: counts({ read: 2437, toWrite: 1300, unchanged: 1100, skipped: 30, invalid: 5 }),
          message: null,
          auto: false
        }
        sync.runs.unshift(summary)
        return { summary, plan }
      }
      return new Promise<RunReport>((resolve) => {
        sync.pending = {
          id,
          request,
          channel: args.onProgress as Channel<SyncProgress>,
          startedAt,
          last: null,
          resolve
        }
      })
    }
    case 'auto_sync_watch':
      sync.autoChannel = args.onStatus as Channel<AutoSyncStatus>
      sync.autoChannel.onmessage(sync.autoStatus)
      return null
    case 'auto_sync_set': {
      const minutes = args.minutes as number | null
      if (minutes !== null && (minutes < 5 || minutes > 1440))
        throw {
          code: 'InvalidInput',
          message: 'The auto-sync interval must be at least 5 minutes; choose 5 or more.'
        }
      // As in Rust: the answer is the status right after the settings changed; the scheduler,
      // woken on another thread, may stream its newer status (with the next run) before the
      // answer reaches the window.
      const answer: AutoSyncStatus = {
        ...sync.autoStatus,
        revision: sync.autoStatus.revision + 1,
        intervalMinutes: minutes,
        nextRunAt: null
      }
      sync.auto({
        ...answer,
        nextRunAt: minutes === null ? null : new Date(Date.now() + minutes * 60_000).toISOString()
      })
      return answer
    }
    case 'push_check':
      if (scenario.check !== undefined) throw scenario.check
      return null
    case 'run_cancel':
      // The core stops after the batches in flight, then the run answers as Cancelled.
      if (sync.pending !== null) setTimeout(() => sync.finish('Cancelled'), 50)
      return null
    case 'history_list': {
      const all = [...sync.runs, ...(scenario.emptyHistory ? [] : seeded)]
      return all.slice(0, Number(args.limit))
    }
    case 'history_records': {
      const offset = Number(args.offset)
      return outcomes(Number(args.runId)).slice(offset, offset + Number(args.limit))
    }
    case 'history_export_records_csv': {
      const runId = Number(args.runId)
      return { path: `/tmp/dhs-dialog/run-${runId}-not-written.csv`, rows: outcomes(runId).length }
    }
    default:
      return undefined
  }
}

;(window as unknown as { __sync: typeof sync }).__sync = sync
