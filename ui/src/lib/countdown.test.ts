import { describe, expect, it } from 'vitest'

import { formatDuration, secondsLeft, toEpochMs } from './countdown'

describe('countdown', () => {
  it('parses RFC 3339 strings and Unix seconds or milliseconds to the same instant', () => {
    const ms = Date.UTC(2026, 10, 27, 17, 0, 0)
    expect(toEpochMs('2026-11-27T17:00:00Z'), 'RFC 3339 with Z').toBe(ms)
    expect(toEpochMs('2026-11-27T18:00:00+01:00'), 'RFC 3339 with offset').toBe(ms)
    expect(toEpochMs(ms / 1000), 'Unix seconds are scaled').toBe(ms)
    expect(toEpochMs(ms), 'Unix milliseconds are kept').toBe(ms)
    expect(toEpochMs(BigInt(ms / 1000)), 'bigint seconds (ts-rs u64)').toBe(ms)
  })

  it('rejects a non-timestamp instead of showing NaN', () => {
    expect(() => toEpochMs('soon'), 'garbage is an error').toThrow(/not a timestamp/)
  })

  it('counts whole seconds down to zero and never below', () => {
    expect(secondsLeft(10_000, 0), 'ten seconds').toBe(10)
    expect(secondsLeft(10_000, 9_001), 'a partial second rounds up').toBe(1)
    expect(secondsLeft(10_000, 10_000), 'at the deadline').toBe(0)
    expect(secondsLeft(10_000, 99_000), 'past the deadline').toBe(0)
  })

  it('formats m:ss under an hour and h:mm:ss from one hour', () => {
    expect(formatDuration(0), 'zero').toBe('0:00')
    expect(formatDuration(59), 'seconds pad').toBe('0:59')
    expect(formatDuration(61), 'a minute').toBe('1:01')
    expect(formatDuration(3599), 'just under the hour the code lives').toBe('59:59')
    expect(formatDuration(3600), 'the full hour').toBe('1:00:00')
  })
})
