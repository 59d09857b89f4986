/**
 * The Sync screen's auto-sync card: on/off and the interval (5 minutes to a day), when the next
 * auto run starts, the progress of a running one (with Cancel), and how the last one ended
 * with a link to its runs in History. The scheduler itself runs in Rust.
 */
import { useState, type FormEvent } from 'react'
import { Button, Input, Label, TextField } from 'react-aria-components'

import type { AutoSyncOutcome } from '../bindings/AutoSyncOutcome'
import type { AutoSyncStatus } from '../bindings/AutoSyncStatus'
import { setAutoSync, useAutoSync } from '../lib/autoSync'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import { formatTime } from '../lib/syncFormat'
import { ErrorAlert } from './ErrorAlert'
import { SyncProgressBar } from './SyncProgressBar'
import './sync.css'

/** The interval offered when auto-sync is first turned on. */
const DEFAULT_MINUTES = 30
const MIN_MINUTES = 5
const MAX_MINUTES = 24 * 60

const OUTCOME: Record<AutoSyncOutcome, { label: string; tone: string }> = {
  succeeded: { label: 'Succeeded', tone: 'ok' },
  partial: { label: 'Partial', tone: 'warn' },
  failed: { label: 'Failed', tone: 'bad' },
  cancelled: { label: 'Cancelled', tone: 'warn' },
  skipped: { label: 'Skipped', tone: 'neutral' }
}

/** The minutes typed, or a message saying what is wrong. */
export function parseMinutes(text: string): number | string {
  const t = text.trim()
  if (!/^\d+$/.test(t)) return 'Enter the interval as a whole number of minutes.'
  const m = Number(t)
  if (m < MIN_MINUTES) return `The interval must be at least ${MIN_MINUTES} minutes.`
  if (m > MAX_MINUTES) return `The interval can be at most ${MAX_MINUTES} minutes (one day).`
  return m
}

/** What the card says about the schedule right now. */
function scheduleText(s: AutoSyncStatus): string {
  if (s.intervalMinutes === null) return 'Off'
  if (s.running) return 'Running now'
  if (s.nextRunAt !== null) return `Next run ${formatTime(s.nextRunAt)}`
  return `Every ${s.intervalMinutes} minutes`
}

/** Props of `AutoSyncCard`. */
export interface AutoSyncCardProps {
  /** The bidirectional flow is on (an auto run also pulls). */
  bidirectional: boolean
  /** Opens History on a run. */
  onOpenRun: (runId: number) => void
}

/** The auto-sync card. */
export function AutoSyncCard({ bidirectional, onOpenRun }: AutoSyncCardProps) {
  const status = useAutoSync()
  const interval = status?.intervalMinutes ?? null
  const [draft, setDraft] = useState(String(interval ?? DEFAULT_MINUTES))
  const [problem, setProblem] = useState<string | null>(null)
  const [error, setError] = useState<BackendError | null>(null)
  const [busy, setBusy] = useState(false)
  // Follow the saved interval (Rust's first answer, or a change made elsewhere).
  const [shown, setShown] = useState(interval)
  if (interval !== shown) {
    setShown(interval)
    if (interval !== null) setDraft(String(interval))
  }

  const apply = (minutes: number | null) => {
    setBusy(true)
    setError(null)
    setAutoSync(minutes)
      .catch((e: BackendError) => setError(e))
      .finally(() => setBusy(false))
  }
  const toggle = (on: boolean) => {
    if (!on) return apply(null)
    const m = parseMinutes(draft)
    if (typeof m === 'string') return setProblem(m)
    setProblem(null)
    apply(m)
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const m = parseMinutes(draft)
    if (typeof m === 'string') return setProblem(m)
    setProblem(null)
    apply(m)
  }

  const last = status?.last ?? null
  const on = interval !== null
  const what = bidirectional ? 'an incremental push, then a pull' : 'an incremental push'
  return (
    <section className="card" aria-labelledby="auto-sync-title" data-testid="auto-sync">
      <header className="card-header">
        <h2 id="auto-sync-title">Auto-sync</h2>
        {status !== null && (
          <span className="muted" data-testid="auto-sync-schedule" role="status">
            {scheduleText(status)}
          </span>
        )}
      </header>
      <label className="check">
        <input
          type="checkbox"
          data-testid="auto-sync-on"
          checked={on}
          disabled={busy || status === null}
          onChange={(e) => toggle(e.target.checked)}
        />
        <span>
          <strong>Sync automatically while this app is open</strong>
          <small className="muted block">
            Each run is {what}, like the buttons above, and lands in History. Nothing runs while the
            app is closed or while another sync is running.
          </small>
        </span>
      </label>
      <form className="row auto-sync-interval" onSubmit={submit}>
        <TextField
          className="field field-narrow"
          value={draft}
          onChange={(v) => {
            setDraft(v)
            setProblem(null)
          }}
          isInvalid={problem !== null}
          isDisabled={busy}
        >
          <Label>Every (minutes)</Label>
          <Input data-testid="auto-sync-minutes" inputMode="numeric" />
        </TextField>
        {on && (
          <Button
            type="submit"
            className="btn"
            data-testid="auto-sync-apply"
            isDisabled={busy || draft.trim() === String(interval)}
          >
            Apply
          </Button>
        )}
      </form>
      {problem !== null && (
        <p className="field-problem" role="alert" data-testid="auto-sync-problem">
          {problem}
        </p>
      )}
      {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
      {status?.running === true && (
        <div className="auto-sync-running">
          <SyncProgressBar progress={status.progress} />
          <Button
            className="btn btn-danger-outline btn-small"
            data-testid="auto-sync-cancel"
            onPress={() => void backend.runCancel().catch((e: BackendError) => setError(e))}
          >
            Cancel this auto-sync
          </Button>
        </div>
      )}
      {last !== null && (
        <div className="auto-sync-last" data-testid="auto-sync-last" data-outcome={last.outcome}>
          <p>
            Last auto-sync {formatTime(last.startedAt)}{' '}
            <span className={`run-badge run-badge-${OUTCOME[last.outcome].tone}`}>
              {OUTCOME[last.outcome].label}
            </span>
          </p>
          <p className="muted">{last.message}</p>
          {last.runIds.length > 0 && (
            <div className="row">
              {last.runIds.map((id) => (
                <Button
                  key={id}
                  className="btn btn-small"
                  data-testid="auto-sync-open-run"
                  onPress={() => onOpenRun(id)}
                >
                  View run #{id} in History
                </Button>
              ))}
            </div>
          )}
        </div>
      )}
    </section>
  )
}

/** The status bar's note while auto-sync is on: the schedule, a link to the Sync screen. */
export function AutoSyncIndicator({ onOpen }: { onOpen: () => void }) {
  const status = useAutoSync()
  if (status === null || status.intervalMinutes === null) return null
  return (
    <button
      type="button"
      className="link-button"
      data-testid="auto-sync-indicator"
      onClick={onOpen}
    >
      Auto-sync: {scheduleText(status).toLowerCase()}
    </button>
  )
}
