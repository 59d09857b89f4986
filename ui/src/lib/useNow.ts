/** A React hook that re-renders once a second with the current time (for countdowns). */
import { useEffect, useState } from 'react'

/** Current epoch milliseconds, refreshed every `intervalMs` while `active`. */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!active) return
    const tick = () => setNow(Date.now())
    // First tick at once (the value from the last active period may be stale), then steadily.
    const first = window.setTimeout(tick, 0)
    const id = window.setInterval(tick, intervalMs)
    return () => {
      window.clearTimeout(first)
      window.clearInterval(id)
    }
  }, [active, intervalMs])
  return now
}
