/**
 * The Sync screen's part of the bidirectional flow: "Pull from HubSpot" (with its dry run) and
 * "Push then pull", their progress and cancel, and the result with every conflict and a link to
 * the run in History. Kept in its own file so the Sync screen only places it.
 */
import { useState } from 'react'
import { Button } from 'react-aria-components'

import type { BothReport } from '../bindings/BothReport'
import type { PullReport } from '../bindings/PullReport'
import { ErrorAlert } from '../components/ErrorAlert'
import { RunCounts } from '../components/RunCounts'
import { RunOutcome } from '../components/RunOutcome'
import { StatusBadge } from '../components/StatusBadge'
import { SyncProgressBar } from '../components/SyncProgressBar'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import type { SyncProgress } from '../lib/syncTypes'

/** Props of `PullPanel`. */
export interface PullPanelProps {
  /** The bidirectional option is on. */
  bidirectional: boolean
  /** A push runs, or the screen is blocked (not connected, nothing mapped…). */
  disabled: boolean
  /** Opens a run in History. */
  onOpenRun: (id: number) => void
}

type Kind = 'pull' | 'dry' | 'both'

/** Pull and push-then-pull buttons with progress and result. */
export function PullPanel({ bidirectional, disabled, onOpenRun }: PullPanelProps) {
  const [running, setRunning] = useState<Kind | null>(null)
  const [cancelling, setCancelling] = useState(false)
  const [progress, setProgress] = useState<SyncProgress | null>(null)
  const [pulled, setPulled] = useState<PullReport | null>(null)
  const [both, setBoth] = useState<BothReport | null>(null)
  const [error, setError] = useState<BackendError | null>(null)

  const start = (kind: Kind) => {
    setRunning(kind)
    setCancelling(false)
    setProgress(null)
    setPulled(null)
    setBoth(null)
    setError(null)
    const done = () => {
      setRunning(null)
      setCancelling(false)
    }
    const fail = (e: BackendError) => {
      setError(e)
      done()
    }
    if (kind === 'both') {
      backend.pushThenPull(false, setProgress).then((r) => {
        setBoth(r)
        setPulled(r.pull)
        done()
      }, fail)
    } else {
      backend.pullRun(kind === 'dry', setProgress).then((r) => {
        setPulled(r)
        done()
      }, fail)
    }
  }
  const cancel = () => {
    setCancelling(true)
    backend.runCancel().catch((e: BackendError) => setError(e))
  }
  const canStart = bidirectional && !disabled && running === null
  const summary = pulled?.run.summary ?? null

  return (
    <>
      <section className="card" aria-labelledby="sync-pull-title" data-testid="sync-pull-panel">
        <header className="card-header">
          <h2 id="sync-pull-title">HubSpot → Didomi</h2>
        </header>
        <p className="muted">
          Pull the contacts whose “Didomi Changed” rose since the last pull and write what differs
          to Didomi.
          {!bidirectional &&
            ' Turn on the bidirectional flow in Options and set up the workflow first.'}
        </p>
        {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
        <div className="row">
          <Button
            className="btn"
            data-testid="sync-pull-dry-run"
            isDisabled={!canStart}
            onPress={() => start('dry')}
          >
            Dry-run pull
          </Button>
          <Button
            className="btn btn-primary"
            data-testid="sync-pull"
            isDisabled={!canStart}
            onPress={() => start('pull')}
          >
            Pull from HubSpot
          </Button>
          <Button
            className="btn"
            data-testid="sync-both"
            isDisabled={!canStart}
            onPress={() => start('both')}
          >
            Push then pull
          </Button>
          {running !== null && (
            <Button
              className="btn btn-danger-outline"
              data-testid="sync-pull-cancel"
              isDisabled={cancelling}
              onPress={cancel}
            >
              {cancelling ? 'Cancelling…' : 'Cancel'}
            </Button>
          )}
        </div>
        {running !== null && <SyncProgressBar progress={progress} />}
        {both !== null && (
          <p data-testid="sync-both-push">
            Push: <StatusBadge status={both.push.summary.status} /> ·{' '}
            {both.push.summary.counts.written} written.{' '}
            {both.pull === null && 'The pull did not start (the push was cancelled).'}
          </p>
        )}
      </section>
      {/* The pull's result is a titled card like the push's, under the buttons that made it. */}
      {summary !== null && running === null && (
        <section
          className="card result"
          aria-labelledby="sync-pull-result-title"
          data-testid="sync-pull-result"
        >
          <header className="card-header">
            <h2 id="sync-pull-result-title">
              {summary.dryRun ? 'Pull dry run finished' : 'Pull finished'}{' '}
              <StatusBadge status={summary.status} testId="sync-pull-status" />
            </h2>
            <Button
              className="btn btn-small"
              data-testid="sync-pull-open-history"
              onPress={() => onOpenRun(summary.id)}
            >
              View run #{summary.id} in History
            </Button>
          </header>
          <RunOutcome summary={summary} target="Didomi" />
          {pulled !== null && pulled.plan !== null ? (
            <p data-testid="sync-pull-plan">
              Would write {pulled.plan.toWrite} contact(s) to Didomi; {pulled.plan.unchanged}{' '}
              already equal; {pulled.plan.invalid} with unreadable values. Nothing was written.
            </p>
          ) : (
            <RunCounts counts={summary.counts} testId="sync-pull-counts" />
          )}
          {pulled !== null && pulled.conflicts.length > 0 && (
            <table className="table" data-testid="sync-pull-conflicts">
              <caption>Conflicts: both sides changed the item since the last sync</caption>
              <thead>
                <tr>
                  <th>Contact</th>
                  <th>Property</th>
                  <th>HubSpot</th>
                  <th>Didomi</th>
                  <th>Kept</th>
                </tr>
              </thead>
              <tbody>
                {pulled.conflicts.map((c) => (
                  <tr key={`${c.email}/${c.property}`}>
                    <td>{c.email}</td>
                    <td>
                      <code>{c.property}</code>
                    </td>
                    <td>{c.hubspot}</td>
                    <td>{c.didomi ?? '—'}</td>
                    <td>{c.winner === 'didomi' ? 'Didomi' : 'HubSpot'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </>
  )
}
