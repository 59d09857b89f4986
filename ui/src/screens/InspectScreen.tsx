/**
 * The Inspect screen: for one email, the Didomi users and which one wins, one row per mapped
 * item (Didomi's answer → what the push would write → HubSpot's value → match), HubSpot's
 * history of the mapped properties (this app's changes marked with their run), the runs that
 * touched the person; "Sync this person now" (dry run first), export as JSON, print.
 */
import { type FormEvent, useState } from 'react'
import { Button } from 'react-aria-components'

import type { InspectRow } from '../bindings/InspectRow'
import type { Inspection } from '../bindings/Inspection'
import type { InspectSync } from '../bindings/InspectSync'
import type { RowMatch } from '../bindings/RowMatch'
import { DryRunPlanView } from '../components/DryRunPlanView'
import { ErrorAlert } from '../components/ErrorAlert'
import { Field } from '../components/Field'
import { StatusBadge } from '../components/StatusBadge'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import { directionLabel, formatTime } from '../lib/syncFormat'
import '../components/sync.css'
import './InspectScreen.css'

/** How each comparison reads, with its tone (never colour alone: the text says it). */
export const MATCH_LABEL: Record<
  RowMatch,
  { text: string; tone: 'ok' | 'warn' | 'bad' | 'neutral' }
> = {
  match: { text: 'Match', tone: 'ok' },
  mismatch: { text: 'Mismatch', tone: 'bad' },
  not_written: { text: 'Not written', tone: 'neutral' },
  no_contact: { text: 'No contact', tone: 'warn' },
  stale: { text: 'Stale mapping', tone: 'warn' }
}

/** A value as shown in a cell: an em dash for nothing, "(empty)" for a cleared value. */
export function shown(value: string | null): string {
  if (value === null) return '—'
  if (value === '') return '(empty)'
  return value
}

/** Props of `InspectScreen`. */
export interface InspectScreenProps {
  /** Opens a run in History. */
  onOpenRun: (runId: number) => void
}

type Busy = null | 'lookup' | 'dry' | 'sync' | 'export'

/** The Inspect screen. */
export function InspectScreen({ onOpenRun }: InspectScreenProps) {
  const [email, setEmail] = useState('')
  const [found, setFound] = useState<Inspection | null>(null)
  const [busy, setBusy] = useState<Busy>(null)
  const [error, setError] = useState<BackendError | null>(null)
  const [synced, setSynced] = useState<{ dryRun: boolean; result: InspectSync } | null>(null)
  const [exported, setExported] = useState<string | null>(null)

  const lookUp = (target: string, keep = false) => {
    setBusy('lookup')
    setError(null)
    if (!keep) setSynced(null)
    setExported(null)
    backend.inspectLookup(target).then(
      (i) => {
        setFound(i)
        setBusy(null)
      },
      (e: BackendError) => {
        setError(e)
        setBusy(null)
      }
    )
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (email.trim() !== '') lookUp(email)
  }
  const sync = (dryRun: boolean) => {
    if (found === null) return
    setBusy(dryRun ? 'dry' : 'sync')
    setError(null)
    backend
      .inspectSync(found.email, dryRun, () => {})
      .then(
        (result) => {
          setSynced({ dryRun, result })
          if (dryRun) setBusy(null)
          else lookUp(found.email, true)
        },
        (e: BackendError) => {
          setError(e)
          setBusy(null)
        }
      )
  }
  const exportJson = () => {
    if (found === null) return
    setBusy('export')
    backend.inspectExport(found.email).then(
      (r) => {
        setExported(r?.path ?? null)
        setBusy(null)
      },
      (e: BackendError) => {
        setError(e)
        setBusy(null)
      }
    )
  }

  return (
    <div className="screen inspect-screen" data-testid="screen-inspect">
      <h1>Inspect</h1>
      <p className="lead">
        Look one person up: what Didomi holds, what the mapping makes of it, what HubSpot holds and
        why.
      </p>
      <form className="inspect-form no-print" onSubmit={submit} aria-label="Look a person up">
        <Field
          label="Email"
          value={email}
          onChange={setEmail}
          testId="inspect-email"
          placeholder="jane@example.com"
          description="Compared trimmed and in lower case, as the push does."
        />
        <Button
          type="submit"
          className="btn btn-primary"
          data-testid="inspect-lookup"
          isDisabled={busy !== null || email.trim() === ''}
        >
          Look up
        </Button>
      </form>
      {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
      {busy === 'lookup' && (
        <p className="muted" role="status" data-testid="inspect-loading">
          Looking up…
        </p>
      )}
      {found !== null && busy !== 'lookup' && !found.found && (
        <p className="alert alert-warn" role="status" data-testid="inspect-unknown">
          Neither Didomi nor HubSpot knows <strong>{found.email}</strong>. Check the spelling.
        </p>
      )}
      {found !== null && found.found && (
        <Result
          found={found}
          busy={busy}
          synced={synced}
          exported={exported}
          onSync={sync}
          onExport={exportJson}
          onOpenRun={onOpenRun}
        />
      )}
    </div>
  )
}

interface ResultProps {
  found: Inspection
  busy: Busy
  synced: { dryRun: boolean; result: InspectSync } | null
  exported: string | null
  onSync: (dryRun: boolean) => void
  onExport: () => void
  onOpenRun: (runId: number) => void
}

function Result({ found, busy, synced, exported, onSync, onExport, onOpenRun }: ResultProps) {
  const mismatches = found.rows.filter((r) => r.match === 'mismatch').length
  return (
    <section
      className="inspect-result"
      data-testid="inspect-result"
      data-mismatches={mismatches}
      aria-labelledby="inspect-person"
    >
      <div className="title-row">
        <h2 id="inspect-person">{found.email}</h2>
        <span className="muted">Taken {formatTime(found.taken_at)}</span>
      </div>
      <p data-testid="inspect-summary" role="status">
        {mismatches === 0
          ? 'HubSpot holds what Didomi says for every mapped item that has an answer.'
          : `${mismatches} mapped item${mismatches === 1 ? '' : 's'} differ${mismatches === 1 ? 's' : ''} between Didomi and HubSpot.`}
      </p>
      <div className="actions no-print">
        <Button
          className="btn"
          data-testid="inspect-dry-run"
          isDisabled={busy !== null}
          onPress={() => onSync(true)}
        >
          {busy === 'dry' ? 'Checking…' : 'Dry run for this person'}
        </Button>
        <Button
          className="btn btn-primary"
          data-testid="inspect-sync"
          isDisabled={busy !== null}
          onPress={() => onSync(false)}
        >
          {busy === 'sync' ? 'Syncing…' : 'Sync this person now'}
        </Button>
        <Button
          className="btn"
          data-testid="inspect-export"
          isDisabled={busy !== null}
          onPress={onExport}
        >
          Export JSON…
        </Button>
        <Button className="btn" data-testid="inspect-print" onPress={() => window.print()}>
          Print
        </Button>
      </div>
      {exported !== null && (
        <p className="alert alert-ok no-print" role="status" data-testid="inspect-exported">
          Saved to {exported}
        </p>
      )}
      {synced !== null && <SyncResult synced={synced} onOpenRun={onOpenRun} />}

      <h3>Didomi users</h3>
      {found.didomi_users.length === 0 ? (
        <p className="muted">No Didomi user has this email.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" aria-label="Didomi users">
            <thead>
              <tr>
                <th scope="col">User id</th>
                <th scope="col">Organization user id</th>
                <th scope="col">Last change</th>
                <th scope="col">Pushed</th>
              </tr>
            </thead>
            <tbody>
              {found.didomi_users.map((u) => (
                <tr key={u.id} data-testid="inspect-user" data-wins={u.wins}>
                  <td className="mono">{u.id}</td>
                  <td>{u.organization_user_id ?? '—'}</td>
                  <td>{u.updated_at === null ? '—' : formatTime(u.updated_at)}</td>
                  <td>{u.wins ? <strong>Wins</strong> : 'Not pushed'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p data-testid="inspect-winner-reason">{found.winner_reason}</p>
      <p className="muted">
        HubSpot contact:{' '}
        {found.hubspot_contact === null
          ? 'none with this email'
          : `record ${found.hubspot_contact}`}
      </p>

      <h3>Mapped items</h3>
      <div className="table-scroll">
        <table className="table inspect-rows" aria-label="Mapped items">
          <thead>
            <tr>
              <th scope="col">Didomi item</th>
              <th scope="col">Didomi says</th>
              <th scope="col">The push writes</th>
              <th scope="col">HubSpot has</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {found.rows.map((r) => (
              <Row key={r.property} row={r} />
            ))}
          </tbody>
        </table>
      </div>

      <h3>HubSpot history of the mapped properties</h3>
      {found.hubspot_history.length === 0 ? (
        <p className="muted">No change recorded.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" aria-label="HubSpot history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Property</th>
                <th scope="col">Value</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {found.hubspot_history.map((h, i) => (
                <tr
                  key={`${h.property}-${h.timestamp}-${i}`}
                  data-testid="inspect-change"
                  data-by-app={h.by_app}
                >
                  <td>{formatTime(h.timestamp)}</td>
                  <td className="mono">{h.property}</td>
                  <td>{shown(h.value)}</td>
                  <td>
                    {h.run_id !== null ? (
                      <button
                        type="button"
                        className="link-button"
                        onClick={() => onOpenRun(h.run_id as number)}
                      >
                        {h.source}
                      </button>
                    ) : (
                      h.source
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h3>Runs that touched this person</h3>
      {found.runs.length === 0 ? (
        <p className="muted">No run in History touched this person.</p>
      ) : (
        <ul className="inspect-runs">
          {found.runs.map((r) => (
            <li key={r.id} data-testid="inspect-run" data-run-id={r.id}>
              <button type="button" className="link-button" onClick={() => onOpenRun(r.id)}>
                Run {r.id}
              </button>{' '}
              · {directionLabel(r.direction)}
              {r.dry_run ? ' (dry run)' : ''} · <StatusBadge status={r.status} /> ·{' '}
              {formatTime(r.started_at)}
              <div className="muted">{r.message}</div>
            </li>
          ))}
        </ul>
      )}
      <p className="muted small" data-testid="inspect-requests">
        This lookup made {found.requests.hubspot} HubSpot and {found.requests.didomi} Didomi
        requests (spellings searched in Didomi: {found.searched.join(', ')}).
      </p>
    </section>
  )
}

function Row({ row }: { row: InspectRow }) {
  const m = MATCH_LABEL[row.match]
  return (
    <tr data-testid="inspect-row" data-property={row.property} data-match={row.match}>
      <th scope="row">
        {row.didomi_item}
        <small className="mono">{row.property}</small>
      </th>
      <td>{row.didomi}</td>
      <td>{shown(row.expected)}</td>
      <td>{shown(row.hubspot)}</td>
      <td>
        <span className={`run-badge run-badge-${m.tone}`}>{m.text}</span>
        <div className="muted small">{row.explanation}</div>
      </td>
    </tr>
  )
}

function SyncResult({
  synced,
  onOpenRun
}: {
  synced: { dryRun: boolean; result: InspectSync }
  onOpenRun: (runId: number) => void
}) {
  const { push, pull } = synced.result
  const plan = push.plan
  return (
    <div
      className="card inspect-sync"
      data-testid="inspect-sync-result"
      data-dry-run={synced.dryRun}
    >
      <h3>{synced.dryRun ? 'Dry run for this person' : 'Synced this person'}</h3>
      <p>
        Push{' '}
        <button type="button" className="link-button" onClick={() => onOpenRun(push.summary.id)}>
          run {push.summary.id}
        </button>{' '}
        <StatusBadge status={push.summary.status} testId="inspect-sync-status" />
        {push.summary.message !== null && <> · {push.summary.message}</>}
      </p>
      {synced.dryRun && plan !== null && (
        <>
          {plan.sampleChanges === null ? (
            <p data-testid="inspect-dry-nothing">Nothing to write to HubSpot for this person.</p>
          ) : (
            <DryRunPlanView plan={plan} upsert={null} />
          )}
        </>
      )}
      {pull !== null && (
        <p>
          Pull{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => onOpenRun(pull.run.summary.id)}
          >
            run {pull.run.summary.id}
          </button>{' '}
          <StatusBadge status={pull.run.summary.status} />
          {pull.plan !== null &&
            ` · ${Number(pull.plan.toWrite) === 0 ? 'nothing to write to Didomi' : 'Didomi would get this contact’s HubSpot values'}`}
        </p>
      )}
    </div>
  )
}
