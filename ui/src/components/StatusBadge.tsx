/** A coloured badge with a run's status. */
import { STATUS_LABEL, statusTone } from '../lib/syncFormat'
import type { RunStatus } from '../lib/syncTypes'
import './sync.css'

/** Shows `status` as a small badge (colour and text, never colour alone). */
export function StatusBadge({ status, testId }: { status: RunStatus; testId?: string }) {
  return (
    <span
      className={`run-badge run-badge-${statusTone(status)}`}
      data-testid={testId}
      data-status={status}
    >
      {STATUS_LABEL[status]}
    </span>
  )
}
