/** The live progress of a running sync: bar, counts, rate and time left. */
import { Label, ProgressBar } from 'react-aria-components'

import {
  COUNT_LABEL,
  formatCount,
  formatDuration,
  formatEta,
  formatRate,
  percentDone
} from '../lib/syncFormat'
import type { SyncProgress } from '../lib/syncTypes'
import './sync.css'

/** The counts a running sync shows, in the words of its result (`COUNT_LABEL`). */
const PROGRESS_FACTS = [
  'read',
  'toWrite',
  'written',
  'created',
  'skipped',
  'invalid',
  'duplicates',
  'failed'
] as const

const PHASE: Record<string, string> = {
  scanning: 'Listing Didomi users…',
  reading: 'Reading Didomi and HubSpot…',
  writing: 'Writing to HubSpot…',
  finishing: 'Finishing…'
}

/** What the run is doing, in words. */
function phaseLabel(p: SyncProgress | null): string {
  if (p === null) return 'Starting…'
  // Until a first difference is found there is nothing to write yet, only comparing.
  if (p.phase === 'writing' && p.toWrite === 0) return 'Comparing with HubSpot…'
  return PHASE[p.phase] ?? p.phase
}

/** The bar carries `data-written` and `data-to-write` for the real-window test. */
export function SyncProgressBar({ progress }: { progress: SyncProgress | null }) {
  const p = progress
  const percent = p === null ? 0 : percentDone(p.written, p.failed, p.toWrite)
  // Until the core knows how much there is to write, the bar is indeterminate.
  const known = p !== null && p.toWrite > 0
  return (
    <div
      className="sync-progress"
      data-testid="sync-progress"
      data-written={p?.written ?? 0}
      data-to-write={p?.toWrite ?? 0}
      data-phase={p?.phase ?? 'starting'}
    >
      <ProgressBar
        value={known ? percent : undefined}
        isIndeterminate={!known}
        aria-valuetext={
          known
            ? `${percent}%: ${formatCount(p.written)} of ${formatCount(p.toWrite)} written`
            : 'Starting'
        }
        className="progress"
      >
        <div className="progress-head">
          <Label>{phaseLabel(p)}</Label>
          <span className="progress-percent">{known ? `${percent}%` : ''}</span>
        </div>
        <div className="progress-track">
          <div
            className={known ? 'progress-fill' : 'progress-fill progress-indeterminate'}
            style={{ width: known ? `${percent}%` : '30%' }}
          />
        </div>
      </ProgressBar>
      {p !== null && (
        <p className="progress-facts" aria-live="off">
          {PROGRESS_FACTS.map((k) => (
            <span key={k} className={k === 'failed' && p.failed > 0 ? 'warn-text' : undefined}>
              <strong>{formatCount(p[k])}</strong> {COUNT_LABEL[k].toLowerCase()}
            </span>
          ))}
          <span>{formatRate(p.ratePerS)}</span>
          <span>
            {formatDuration(p.elapsedMs)} elapsed · {formatEta(p.etaSeconds)} left
          </span>
        </p>
      )}
    </div>
  )
}
