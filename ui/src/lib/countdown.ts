/** Small time helpers for the paste fallback's "time left" countdown. */

/** Parses an RFC 3339 string or a Unix time (seconds or milliseconds) into epoch milliseconds. */
export function toEpochMs(value: string | number | bigint): number {
  if (typeof value === 'bigint') value = Number(value)
  if (typeof value === 'number') {
    // Anything below 10^11 cannot be milliseconds of a date after 1973: treat it as seconds.
    return value < 1e11 ? value * 1000 : value
  }
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${value}`)
  return ms
}

/** Whole seconds left until `deadlineMs` at `nowMs`, never negative. */
export function secondsLeft(deadlineMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000))
}

/** Formats seconds as `m:ss` (or `h:mm:ss` from one hour up). */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}
