/** The counts of a run as a compact definition list. */
import { formatCount } from '../lib/syncFormat'
import type { RunCounts as Counts } from '../lib/syncTypes'
import './sync.css'

const FIELDS: { key: keyof Counts; label: string }[] = [
  { key: 'read', label: 'Read' },
  { key: 'toWrite', label: 'To write' },
  { key: 'written', label: 'Written' },
  { key: 'created', label: 'Created' },
  { key: 'updated', label: 'Updated' },
  { key: 'unchanged', label: 'Unchanged' },
  { key: 'skipped', label: 'Skipped' },
  { key: 'invalid', label: 'Invalid' },
  { key: 'duplicates', label: 'Duplicates' },
  { key: 'failed', label: 'Failed' }
]

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
