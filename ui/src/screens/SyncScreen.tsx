/**
 * The Sync screen: dry run and push (incremental, or a full reconcile), why a sync cannot run
 * with a link to the screen that fixes it, live progress streamed from Rust with Cancel, the
 * dry-run plan, and the final result with a link to its History entry.
 */
import { useEffect, useState } from 'react'
import { Button } from 'react-aria-components'

import type { ConnectionStatus } from '../bindings/ConnectionStatus'
import type { Settings } from '../bindings/Settings'
import { AutoSyncCard } from '../components/AutoSyncCard'
import { DryRunPlanView } from '../components/DryRunPlanView'
import { ErrorAlert } from '../components/ErrorAlert'
import { RunCounts } from '../components/RunCounts'
import { RunOutcome } from '../components/RunOutcome'
import { StatusBadge } from '../components/StatusBadge'
import { SyncProgressBar } from '../components/SyncProgressBar'
import { useAutoSync } from '../lib/autoSync'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import {
  blockedBefore,
  blockedFromError,
  formatTime,
  modeLabel,
  type Blocked,
  type FixScreen
} from '../lib/syncFormat'
import { cancelPush, dismissPushError, startPush, usePushRun } from '../lib/pushRun'
import { PullPanel } from './PullPanel'
import type { RunSummary } from '../lib/syncTypes'
import '../components/sync.css'

/** Props of `SyncScreen`. */
export interface SyncScreenProps {
  status: ConnectionStatus
  settings: Settings | null
  /** Opens the screen that fixes a blocked sync. */
  onFix: (screen: FixScreen) => void
  /** Opens History on a run. */
  onOpenRun: (runId: number) => void
}

/** The Sync screen. */
export function SyncScreen({ status, settings, onFix, onOpenRun }: SyncScreenProps) {
  const run = usePushRun()
  const [full, setFull] = useState(false)
  const [lastRun, setLastRun] = useState<RunSummary | null>(null)
  const [listError, setListError] = useState<BackendError | null>(null)

  // The last run in History, shown until this window runs one (refreshed after each run).
  useEffect(() => {
    if (run.running) return
    let live = true
    backend.historyList(1).then(
      (runs) => live && setLastRun(runs[0] ?? null),
      (e: BackendError) => live && setListError(e)
    )
    return () => {
      live = false
    }
  }, [run.running])

  const before = blockedBefore(status, settings)
  const beforeKnown = before === null
  // By value: the settings object is renewed by every status poll.
  const mappingKey = JSON.stringify(settings?.mapping ?? null)
  // What only the core knows before a run (stale entries against the live schemas), asked
  // whenever the screen opens ready to run or the saved mapping changes.
  const [checked, setChecked] = useState<Blocked | null>(null)
  useEffect(() => {
    if (!beforeKnown || run.running) return
    let live = true
    backend.pushCheck().then(
      () => live && setChecked(null),
      (e: BackendError) => {
        if (!live) return
        const refusal = blockedFromError(e)
        // Other failures (HubSpot down…) are not a reason to block: the run reports them.
        setChecked(refusal)
      }
    )
    return () => {
      live = false
    }
  }, [beforeKnown, mappingKey, run.running])
  const refused = run.error === null ? null : blockedFromError(run.error)
  const blocked = before ?? refused ?? checked
  const otherRun = run.error?.code === 'SyncAlreadyRunning'
  // An auto run uses the same running mark: the buttons wait for it (its card has Cancel).
  const autoRunning = useAutoSync()?.running === true
  const canStart = !run.running && !autoRunning && before === null && checked === null
  const upsert = settings?.options.upsert ?? null
  const mapped = settings?.mapping.entries.length ?? 0

  const start = (dryRun: boolean) => void startPush({ direction: 'Push', dryRun, full })

  const summary = run.report?.summary ?? null
  const plan = run.report?.plan ?? null
  return (
    <div className="screen sync-screen" data-testid="screen-sync">
      <h1>Sync</h1>
      <p className="lead">
        Push Didomi consents and preferences to HubSpot contacts. Start with a dry run to see what
        would change; nothing is written until you push.
      </p>

      {blocked !== null && (
        <div
          className="alert alert-warn blocked"
          role="status"
          data-testid="sync-blocked"
          data-code={blocked.code}
        >
          <div>
            <strong>A sync cannot run yet.</strong>
            <p>{blocked.message}</p>
          </div>
          <Button
            className="btn btn-small"
            data-testid="sync-blocked-fix"
            onPress={() => onFix(blocked.screen)}
          >
            {blocked.action}
          </Button>
        </div>
      )}
      {run.error !== null && refused === null && (
        <ErrorAlert error={run.error} onDismiss={dismissPushError} />
      )}
      {otherRun && (
        // A run started before this window was (re)loaded: it can be stopped from here.
        <div className="row">
          <Button
            className="btn btn-danger-outline btn-small"
            data-testid="sync-cancel-other"
            onPress={() => {
              dismissPushError()
              backend.runCancel().catch((e: BackendError) => setListError(e))
            }}
          >
            Stop the running sync
          </Button>
        </div>
      )}
      {listError !== null && <ErrorAlert error={listError} onDismiss={() => setListError(null)} />}

      <section className="card" aria-labelledby="sync-run-title">
        <header className="card-header">
          <h2 id="sync-run-title">Didomi → HubSpot</h2>
          {settings !== null && (
            <span className="muted">
              {mapped} mapped {mapped === 1 ? 'property' : 'properties'} · batches of{' '}
              {settings.options.batchSize} · upsert {settings.options.upsert ? 'on' : 'off'}
            </span>
          )}
        </header>
        <label className="check">
          <input
            type="checkbox"
            data-testid="sync-full"
            checked={full}
            disabled={run.running}
            onChange={(e) => setFull(e.target.checked)}
          />
          <span>
            <strong>Full reconcile</strong>
            <small className="muted block">
              Compare every Didomi person with HubSpot, not only those changed since the last
              successful push (slower; use it after changing the mapping or editing HubSpot by
              hand).
            </small>
          </span>
        </label>
        <div className="row">
          <Button
            className="btn"
            data-testid="sync-dry-run"
            isDisabled={!canStart}
            onPress={() => start(true)}
          >
            Dry run
          </Button>
          <Button
            className="btn btn-primary"
            data-testid="sync-push"
            isDisabled={!canStart}
            onPress={() => start(false)}
          >
            Push to HubSpot
          </Button>
          {run.running && (
            <Button
              className="btn btn-danger-outline"
              data-testid="sync-cancel"
              isDisabled={run.cancelling}
              onPress={() => void cancelPush()}
            >
              {run.cancelling ? 'Cancelling…' : 'Cancel'}
            </Button>
          )}
        </div>
        {run.running && (
          <>
            <SyncProgressBar progress={run.progress} />
            {run.cancelling && (
              <p className="muted" role="status">
                Stopping after the batches already sent to HubSpot…
              </p>
            )}
          </>
        )}
      </section>

      {summary !== null && !run.running && (
        <section className="card result" aria-labelledby="sync-result-title">
          <header className="card-header">
            <h2 id="sync-result-title">
              {summary.dryRun ? 'Dry run finished' : 'Push finished'}{' '}
              <StatusBadge status={summary.status} testId="sync-status" />
            </h2>
            <Button
              className="btn btn-small"
              data-testid="sync-open-history"
              onPress={() => onOpenRun(summary.id)}
            >
              View run #{summary.id} in History
            </Button>
          </header>
          <RunOutcome summary={summary} target="HubSpot" />
          {!summary.dryRun && <RunCounts counts={summary.counts} testId="sync-result-counts" />}
          {plan !== null && <DryRunPlanView plan={plan} upsert={upsert} />}
        </section>
      )}

      {summary === null && !run.running && lastRun !== null && (
        <p className="muted" data-testid="sync-last-run">
          Last run: {modeLabel(lastRun)} on {formatTime(lastRun.startedAt)},{' '}
          <StatusBadge status={lastRun.status} />{' '}
          <Button className="btn btn-quiet btn-small" onPress={() => onOpenRun(lastRun.id)}>
            View in History
          </Button>
        </p>
      )}

      {/* The pull (issue 6) comes after the push and its result, so each result sits under
          the buttons that made it. */}
      <PullPanel
        bidirectional={settings?.options.bidirectional ?? false}
        disabled={run.running || autoRunning || before !== null || checked !== null}
        onOpenRun={onOpenRun}
      />
      <AutoSyncCard
        bidirectional={settings?.options.bidirectional ?? false}
        onOpenRun={onOpenRun}
      />
    </div>
  )
}
