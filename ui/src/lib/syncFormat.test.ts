import { describe, expect, it } from 'vitest'

import type { ConnectionStatus } from '../bindings/ConnectionStatus'
import type { Settings } from '../bindings/Settings'
import { BackendError, toBackendError } from './errors'
import {
  blockedBefore,
  blockedFromError,
  chartedRuns,
  formatDuration,
  formatEta,
  formatRate,
  formatTime,
  modeLabel,
  notWrittenCount,
  percentDone,
  recordOutcome,
  statusTone
} from './syncFormat'
import type { RunSummary } from './syncTypes'

const status = (hubspot: string, didomi: string) =>
  ({
    hubspot: { state: hubspot },
    didomi: { state: didomi }
  }) as unknown as ConnectionStatus
const settings = (entries: number) =>
  ({ mapping: { entries: new Array<unknown>(entries).fill({}) } }) as unknown as Settings

describe('formatting', () => {
  it('formats durations by size', () => {
    expect(formatDuration(850), 'under a second').toBe('850 ms')
    expect(formatDuration(42_000), 'seconds').toBe('42 s')
    expect(formatDuration(185_000), 'minutes pad the seconds').toBe('3 min 05 s')
    expect(formatDuration(3_720_000), 'hours pad the minutes').toBe('1 h 02 min')
    expect(formatDuration(null), 'unknown').toBe('—')
  })

  it('shows timestamps with nanoseconds as local date and time', () => {
    const local = new Date('2026-12-02T17:26:35.183Z').toLocaleString(undefined, {
      dateStyle: 'short',
      timeStyle: 'medium'
    })
    expect(formatTime('2026-12-02T17:26:35.183628785Z')).toBe(local)
    expect(formatTime('not a time'), 'unparseable text is shown as is').toBe('not a time')
  })

  it('formats rates and time left', () => {
    expect(formatRate(152.4), 'whole numbers above 10/s').toBe('152/s')
    expect(formatRate(2.25), 'one decimal below 10/s').toBe('2.3/s')
    expect(formatRate(0), 'no rate yet').toBe('—')
    expect(formatEta(null), 'no estimate yet').toBe('estimating…')
    expect(formatEta(58), 'seconds left').toBe('58 s')
  })

  it('computes the done percentage from written and failed', () => {
    expect(percentDone(400, 3, 1300), 'failed records count as done').toBe(31)
    expect(percentDone(0, 0, 0), 'nothing known to write').toBe(0)
    expect(percentDone(120, 0, 100), 'never above 100').toBe(100)
  })

  it('labels modes and tones statuses', () => {
    expect(modeLabel({ dryRun: true, mode: 'incremental' }), 'dry run').toBe('Dry run')
    expect(modeLabel({ dryRun: false, mode: 'full' }), 'full push').toBe('Full reconcile')
    expect(modeLabel({ dryRun: false, mode: 'incremental', auto: true }), 'auto run').toBe(
      'Incremental (auto-sync)'
    )
    expect(statusTone('Partial'), 'partial is a warning').toBe('warn')
    expect(statusTone('Failed'), 'failed is bad').toBe('bad')
  })
})

describe('why a sync cannot run', () => {
  it('asks for HubSpot first, then Didomi, then a mapping', () => {
    expect(blockedBefore(status('notConnected', 'notConnected'), settings(1))?.code).toBe(
      'HubSpotNotConnected'
    )
    expect(blockedBefore(status('reconnectNeeded', 'connected'), settings(1))?.message).toMatch(
      /reconnected/
    )
    expect(blockedBefore(status('connected', 'notConnected'), settings(1))?.screen).toBe('connect')
    const empty = blockedBefore(status('connected', 'connected'), settings(0))
    expect(empty?.code, 'empty mapping').toBe('MappingEmpty')
    expect(empty?.screen, 'fixed on Mapping').toBe('mapping')
    expect(blockedBefore(status('connected', 'connected'), settings(2)), 'ready').toBeNull()
  })

  it('turns the core refusals into a link and keeps their message', () => {
    const stale = toBackendError(
      { code: 'MappingStale', message: 'HubSpot property didomi_x no longer exists.' },
      'push_run'
    )
    expect(blockedFromError(stale)).toEqual({
      code: 'MappingStale',
      message: 'HubSpot property didomi_x no longer exists.',
      screen: 'mapping',
      action: 'Open Mapping'
    })
    const other = new BackendError('HubSpotUnavailable', 'HubSpot is down.', 'push_run')
    expect(blockedFromError(other), 'other errors are shown as errors').toBeNull()
  })
})

describe('outcomes', () => {
  it('names each record not written as the counts do', () => {
    expect(recordOutcome({ status: 'failed', action: 'update' })).toBe('failed')
    expect(recordOutcome({ status: 'skipped', action: 'skip' })).toBe('skipped (no contact)')
    expect(recordOutcome({ status: 'skipped', action: 'invalid' })).toBe('invalid')
    expect(recordOutcome({ status: 'skipped', action: 'duplicate' })).toBe('duplicate')
  })

  it('counts every record not written, not only failures', () => {
    const counts = {
      read: 20,
      toWrite: 8,
      written: 6,
      created: 1,
      updated: 5,
      unchanged: 4,
      skipped: 3,
      invalid: 2,
      duplicates: 4,
      failed: 1
    }
    expect(notWrittenCount(counts)).toBe(10)
  })

  it('charts pushes only, oldest first', () => {
    const run = (id: number, direction: RunSummary['direction'], dryRun = false) =>
      ({ id, direction, dryRun }) as RunSummary
    const runs = [
      run(5, 'Pull'),
      run(4, 'Push'),
      run(3, 'Push', true),
      run(2, 'Pull'),
      run(1, 'Push')
    ]
    expect(
      chartedRuns(runs, 40).map((r) => r.id),
      'no pulls, no dry runs'
    ).toEqual([1, 4])
    expect(
      chartedRuns(runs, 1).map((r) => r.id),
      'the newest ones'
    ).toEqual([4])
  })
})
