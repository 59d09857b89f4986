/** What a finished run (push or pull) did, in one sentence, then how it ran. */
import { STATUS_HELP, directionLabel, formatDuration, modeLabel } from '../lib/syncFormat'
import type { RunSummary } from '../lib/syncTypes'

/** `target` is where a run writes ("HubSpot" for a push, "Didomi" for a pull). */
export function RunOutcome({ summary, target }: { summary: RunSummary; target: string }) {
  return (
    <>
      <p>
        {summary.dryRun && summary.status === 'Succeeded'
          ? `Nothing was written to ${target}.`
          : (summary.message ?? STATUS_HELP[summary.status])}{' '}
        <span className="muted">
          {modeLabel(summary)} · {directionLabel(summary.direction)} · took{' '}
          {formatDuration(summary.durationMs)}
        </span>
      </p>
      {summary.dryRun && summary.message !== null && <p className="muted">{summary.message}</p>}
    </>
  )
}
