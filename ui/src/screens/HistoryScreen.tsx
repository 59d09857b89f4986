/**
 * The History screen: a chart of recent pushes, the table of runs, and for the selected run its
 * records that were not written (paged), each with its outcome, and their CSV export.
 */
import { useCallback, useEffect, useState } from 'react'
import { Button } from 'react-aria-components'

import { ErrorAlert } from '../components/ErrorAlert'
import { RunChart } from '../components/RunChart'
import { RunCounts } from '../components/RunCounts'
import { StatusBadge } from '../components/StatusBadge'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import {
  COUNT_LABEL,
  NOT_WRITTEN,
  STATUS_HELP,
  directionLabel,
  formatCount,
  formatDuration,
  formatTime,
  modeLabel,
  notWrittenCount,
  recordOutcome
} from '../lib/syncFormat'
import type { CsvExport, RecordOutcome, RunSummary } from '../lib/syncTypes'
import '../components/sync.css'

/** How many runs the table lists. */
const RUNS = 100
/** Records per page. */
export const RECORDS_PAGE = 50

/** Props of `HistoryScreen`. */
export interface HistoryScreenProps {
  /** The run to select when the screen opens (e.g. from the Sync result). */
  initialRunId: number | null
}

/** The History screen. */
export function HistoryScreen({ initialRunId }: HistoryScreenProps) {
  const [runs, setRuns] = useState<RunSummary[] | null>(null)
  const [selected, setSelected] = useState<number | null>(initialRunId)
  const [error, setError] = useState<BackendError | null>(null)

  const load = useCallback(() => {
    backend.historyList(RUNS).then(
      (list) => {
        setRuns(list)
        // Select the newest run when nothing (or a run no longer listed) is selected.
        setSelected((cur) =>
          cur !== null && list.some((r) => r.id === cur) ? cur : (list[0]?.id ?? null)
        )
      },
      (e: BackendError) => setError(e)
    )
  }, [])
  useEffect(load, [load])

  const run = runs?.find((r) => r.id === selected) ?? null
  return (
    <div className="screen history-screen" data-testid="screen-history">
      <div className="title-row">
        <h1>History</h1>
        <Button className="btn btn-small" data-testid="history-refresh" onPress={load}>
          Refresh
        </Button>
      </div>
      <p className="lead">Every sync and dry run, with the records that were not written.</p>
      {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
      {runs === null ? (
        <p className="muted" role="status">
          Loading…
        </p>
      ) : runs.length === 0 ? (
        <p className="muted" data-testid="history-empty">
          No runs yet. Start a dry run or a push on the Sync screen.
        </p>
      ) : (
        <>
          <RunChart runs={runs} />
          <div className="table-scroll runs-scroll">
            <table className="table runs-table" aria-label="Runs">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Mode</th>
                  <th scope="col">Direction</th>
                  {(['read', 'written', ...NOT_WRITTEN] as const).map((k) => (
                    <th key={k} scope="col" className="num" data-count={k}>
                      {COUNT_LABEL[k]}
                    </th>
                  ))}
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr
                    key={r.id}
                    data-testid="history-run"
                    data-run-id={r.id}
                    data-status={r.status}
                    aria-selected={r.id === selected}
                    className={r.id === selected ? 'selected' : undefined}
                    onClick={() => setSelected(r.id)}
                  >
                    <td>
                      <button
                        type="button"
                        className="link-button"
                        aria-pressed={r.id === selected}
                        onClick={() => setSelected(r.id)}
                      >
                        {formatTime(r.startedAt)}
                      </button>
                    </td>
                    <td>{formatDuration(r.durationMs)}</td>
                    <td>{modeLabel(r)}</td>
                    <td>{directionLabel(r.direction)}</td>
                    <td className="num">{formatCount(r.counts.read)}</td>
                    <td className="num">
                      {r.dryRun ? (
                        <span className="muted" title="A dry run writes nothing">
                          —
                        </span>
                      ) : (
                        formatCount(r.counts.written)
                      )}
                    </td>
                    {NOT_WRITTEN.map((k) => (
                      <td
                        key={k}
                        data-count={k}
                        className={k === 'failed' && r.counts.failed > 0 ? 'num warn-text' : 'num'}
                      >
                        {formatCount(r.counts[k])}
                      </td>
                    ))}
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {run !== null && <RunDetail key={run.id} run={run} onError={setError} />}
        </>
      )}
    </div>
  )
}

/** The selected run: counts, its records not written page by page, their CSV export. */
function RunDetail({
  run,
  onError
}: {
  run: RunSummary
  onError: (e: BackendError | null) => void
}) {
  const [offset, setOffset] = useState(0)
  // The page loaded last, with the offset it was loaded for (another offset = still loading).
  const [loaded, setLoaded] = useState<{ offset: number; rows: RecordOutcome[] } | null>(null)
  const [saved, setSaved] = useState<CsvExport | null>(null)
  const [exporting, setExporting] = useState(false)

  useEffect(() => {
    let live = true
    // One more than a page, to know whether there is a next page.
    backend.historyRecords(run.id, RECORDS_PAGE + 1, offset).then(
      (rows) => live && setLoaded({ offset, rows }),
      (e: BackendError) => live && onError(e)
    )
    return () => {
      live = false
    }
  }, [run.id, offset, onError])

  const exportCsv = async () => {
    onError(null)
    setSaved(null)
    setExporting(true)
    try {
      setSaved(await backend.historyExportRecordsCsv(run.id))
    } catch (e) {
      onError(e as BackendError)
    } finally {
      setExporting(false)
    }
  }

  const rows = loaded !== null && loaded.offset === offset ? loaded.rows : null
  const records = rows?.slice(0, RECORDS_PAGE) ?? null
  const hasNext = rows !== null && rows.length > RECORDS_PAGE
  const page = Math.floor(offset / RECORDS_PAGE) + 1
  return (
    <section className="card run-detail" aria-labelledby="run-detail-title">
      <header className="card-header">
        <h2 id="run-detail-title">
          Run #{run.id} · {modeLabel(run)} · {formatTime(run.startedAt)}{' '}
          <StatusBadge status={run.status} />
        </h2>
        <Button
          className="btn btn-small"
          data-testid="history-export-csv"
          // Every record that was not written, each with its outcome; nothing to export when
          // every record was written.
          isDisabled={exporting || notWrittenCount(run.counts) === 0}
          onPress={() => void exportCsv()}
        >
          Export records not written as CSV ({formatCount(notWrittenCount(run.counts))})
        </Button>
      </header>
      <p className="muted">
        {/* The core's own sentence says more than the generic one, and never both. */}
        {run.message ?? STATUS_HELP[run.status]}
      </p>
      {saved !== null && (
        <div className="alert alert-ok" role="status" data-testid="history-export-done">
          <span>
            Saved {formatCount(saved.rows)} {saved.rows === 1 ? 'row' : 'rows'} to{' '}
            <span className="mono">{saved.path}</span>
          </span>
        </div>
      )}
      <RunCounts counts={run.counts} />
      <h3>Records not written</h3>
      {records === null ? (
        <p className="muted" role="status">
          Loading…
        </p>
      ) : records.length === 0 && offset === 0 ? (
        <p className="muted" data-testid="history-records-empty">
          Every record of this run was written or unchanged.
        </p>
      ) : (
        <>
          {/* It scrolls on its own: focusable so that the keyboard can scroll it too. */}
          <div
            className="table-scroll records-scroll"
            role="region"
            aria-label="Failed and skipped records"
            tabIndex={0}
          >
            <table className="table records-table" data-testid="history-records">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Action</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">HubSpot error</th>
                  <th scope="col">Message</th>
                  <th scope="col">Correlation id</th>
                </tr>
              </thead>
              <tbody>
                {records.map((r, i) => (
                  <tr key={`${offset + i}`} data-status={r.status} data-outcome={recordOutcome(r)}>
                    <td className="mono nowrap">
                      {r.email === '' ? <em>(no email)</em> : r.email}
                    </td>
                    <td>{r.action}</td>
                    <td>
                      <span
                        className={
                          r.status === 'failed'
                            ? 'run-badge run-badge-bad'
                            : 'run-badge run-badge-neutral'
                        }
                      >
                        {recordOutcome(r)}
                      </span>
                    </td>
                    <td className="mono nowrap">{r.category ?? '—'}</td>
                    <td className="message">{r.message}</td>
                    <td className="mono small">{r.correlationId ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row pager">
            <Button
              className="btn btn-small"
              data-testid="history-records-prev"
              isDisabled={offset === 0}
              onPress={() => setOffset(Math.max(0, offset - RECORDS_PAGE))}
            >
              Previous
            </Button>
            <span className="muted" data-testid="history-records-page">
              Page {page} · records {formatCount(offset + 1)}–{formatCount(offset + records.length)}
            </span>
            <Button
              className="btn btn-small"
              data-testid="history-records-next"
              isDisabled={!hasNext}
              onPress={() => setOffset(offset + RECORDS_PAGE)}
            >
              Next
            </Button>
          </div>
        </>
      )}
    </section>
  )
}
