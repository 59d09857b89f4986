/** The counts of a run as a compact definition list. */
import { COUNT_LABEL, formatCount } from '../lib/syncFormat'
import type { RunCounts as Counts } from '../lib/syncTypes'
import './sync.css'

const FIELDS = Object.entries(COUNT_LABEL).map(([key, label]) => ({
  key: key as keyof Counts,
  label
}))

/** Every count of `counts`, failures highlighted when there are any. */
export function RunCounts({ counts, testId }: { counts: Counts; testId?: string }) {
  return (
    <dl className="counts" data-testid={testId}>
      {FIELDS.map(({ key, label }) => (
        <div
          key={key}
          className={key === 'failed' && counts.failed > 0 ? 'count count-bad' : 'count'}
        >
          <dt>{label}</dt>
          <dd data-count={key}>{formatCount(counts[key])}</dd>
        </div>
      ))}
    </dl>
  )
}
