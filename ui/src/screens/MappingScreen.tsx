/**
 * The Mapping screen: each Didomi purpose, preference and value (left, nested) mapped to a
 * compatible HubSpot contact property (right, a searchable virtualized dropdown). Edits go to a
 * draft; Save writes it, Discard drops it. Suggest proposes properties for unmapped rows, stale
 * entries are flagged with their reason, and the configuration can be exported and imported.
 */
import { useCallback, useEffect, useMemo, useReducer, useState, type CSSProperties } from 'react'
import { Button, Input, Label, Radio, RadioGroup, SearchField } from 'react-aria-components'

import type { ConnectionStatus } from '../bindings/ConnectionStatus'
import type { DidomiItem } from '../bindings/DidomiItem'
import type { MappingEntry } from '../bindings/MappingEntry'
import type { ValueEncoding } from '../bindings/ValueEncoding'
import { ErrorAlert } from '../components/ErrorAlert'
import { ImportDialog } from '../components/ImportDialog'
import { PropertyField } from '../components/PropertyComboBox'
import * as backend from '../lib/backend'
import type { BackendError } from '../lib/errors'
import {
  compatibleProperties,
  describeItem,
  EMPTY_EDIT,
  editReducer,
  filterRows,
  itemKey,
  sameMapping
} from '../lib/mappingDraft'
import type {
  DidomiRow,
  HubSpotPropertyOption,
  MappingView,
  PickedImport,
  StaleEntry,
  Suggestion
} from '../lib/mappingTypes'
import { useUnsavedChanges } from '../lib/unsavedChanges'
import '../components/mapping.css'

/** Props of `MappingScreen`. */
export interface MappingScreenProps {
  /** Connection state: the screen needs both HubSpot and Didomi. */
  status: ConnectionStatus
  /** Opens the Connect screen (from the empty state). */
  onGoToConnect: () => void
  /**
   * Settings changed (save or import): the frame reloads them. Awaited before the screen says
   * "saved", so that no other screen is shown the settings from before the save.
   */
  onSettingsChanged: () => Promise<void>
}

/** The Mapping screen (or its empty state when a side is not connected). */
export function MappingScreen(props: MappingScreenProps) {
  const hubspot = props.status.hubspot.state === 'connected'
  const didomi = props.status.didomi.state === 'connected'
  if (!hubspot || !didomi) {
    const missing = [!hubspot && 'HubSpot', !didomi && 'Didomi'].filter(Boolean).join(' and ')
    return (
      <div className="screen" data-testid="screen-mapping">
        <h1>Mapping</h1>
        <div className="card empty-state" data-testid="mapping-empty">
          <h2>Connect {missing} first</h2>
          <p>
            The mapping pairs Didomi purposes and preferences with HubSpot contact properties, so
            both accounts must be connected to list them.
          </p>
          <Button className="btn btn-primary" onPress={props.onGoToConnect}>
            Go to Connect
          </Button>
        </div>
      </div>
    )
  }
  return <MappingEditor {...props} />
}

const LEAVE_QUESTION =
  'The mapping has unsaved changes. Leave the Mapping screen and lose them, or stay and Save?'

function MappingEditor({ onSettingsChanged }: MappingScreenProps) {
  const [view, setView] = useState<MappingView | null>(null)
  const [{ draft, messages: rowMessages }, dispatch] = useReducer(editReducer, EMPTY_EDIT)
  const [loading, setLoading] = useState<'load' | 'refresh' | null>('load')
  const [attempt, setAttempt] = useState(0)
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<BackendError | null>(null)
  const [suggestions, setSuggestions] = useState<Suggestion[] | null>(null)
  const [creating, setCreating] = useState<string | null>(null)
  const [toast, setToast] = useState<string | null>(null)
  const [filter, setFilter] = useState('')
  const [picked, setPicked] = useState<PickedImport | null>(null)

  useEffect(() => {
    let live = true
    backend.mappingLoad(false).then(
      (v) => {
        if (!live) return
        setView(v)
        dispatch({ type: 'reset', draft: v.saved })
        setLoading(null)
      },
      (e: BackendError) => {
        if (!live) return
        setError(e)
        setLoading(null)
      }
    )
    return () => {
      live = false
    }
  }, [attempt])
  const reload = (refresh: boolean, resetDraft: boolean) => {
    setLoading(refresh ? 'refresh' : 'load')
    setError(null)
    return backend.mappingLoad(refresh).then(
      (v) => {
        setView(v)
        if (resetDraft) dispatch({ type: 'reset', draft: v.saved })
        setLoading(null)
      },
      (e: BackendError) => {
        setError(e)
        setLoading(null)
      }
    )
  }

  const saved = view?.saved ?? { entries: [] }
  const dirty = view !== null && !sameMapping(draft, saved)
  useUnsavedChanges(dirty, LEAVE_QUESTION)

  const rows = useMemo(() => view?.rows ?? [], [view])
  const properties = useMemo(() => view?.properties ?? [], [view])
  const byName = useMemo(() => new Map(properties.map((p) => [p.name, p])), [properties])
  const boolProps = useMemo(() => compatibleProperties(properties, 'boolean'), [properties])
  const textProps = useMemo(() => compatibleProperties(properties, 'text'), [properties])
  const rowPaths = useMemo(() => new Map(rows.map((r) => [itemKey(r.item), r.path])), [rows])
  const entryOf = useMemo(() => new Map(draft.entries.map((e) => [itemKey(e.item), e])), [draft])
  const holderOf = useMemo(
    () =>
      new Map(
        draft.entries.map((e) => [
          e.property,
          rowPaths.get(itemKey(e.item)) ?? describeItem(e.item)
        ])
      ),
    [draft, rowPaths]
  )
  // A stale entry stays flagged while the draft still maps its item to the same property.
  const staleOf = useMemo(() => {
    const m = new Map<string, StaleEntry>()
    for (const s of view?.stale ?? []) {
      const e = entryOf.get(itemKey(s.entry.item))
      if (e !== undefined && e.property === s.entry.property) m.set(itemKey(s.entry.item), s)
    }
    return m
  }, [view, entryOf])
  const orphans = useMemo(
    () => [...staleOf.values()].filter((s) => !rowPaths.has(itemKey(s.entry.item))),
    [staleOf, rowPaths]
  )

  const shownRows = useMemo(
    () =>
      filterRows(rows, filter, (r) => {
        const e = entryOf.get(itemKey(r.item))
        return e === undefined ? undefined : `${e.property} ${byName.get(e.property)?.label ?? ''}`
      }),
    [rows, filter, entryOf, byName]
  )

  const choose = useCallback(
    (item: DidomiItem, property: string) => dispatch({ type: 'choose', rows, item, property }),
    [rows]
  )
  const clear = useCallback((item: DidomiItem) => dispatch({ type: 'clear', item }), [])
  const encode = useCallback(
    (item: DidomiItem, encoding: ValueEncoding) => dispatch({ type: 'encoding', item, encoding }),
    []
  )
  const create = useCallback(
    (item: DidomiItem) => {
      setCreating(itemKey(item))
      setError(null)
      backend.mappingCreateProperty(item).then(
        (p) => {
          setView((v) => (v === null ? v : { ...v, properties: [p, ...v.properties] }))
          dispatch({ type: 'choose', rows, item, property: p.name })
          setToast(`Created the HubSpot property “${p.label}” (${p.name}) and selected it.`)
          setCreating(null)
        },
        (e: BackendError) => {
          setError(e)
          setCreating(null)
        }
      )
    },
    [rows]
  )

  const run = (label: string, job: () => Promise<void>) => {
    setBusy(label)
    setError(null)
    job()
      .catch((e: BackendError) => setError(e))
      .finally(() => setBusy(null))
  }
  const save = () =>
    run('save', async () => {
      const m = await backend.mappingSave(draft)
      await onSettingsChanged()
      setView((v) => (v === null ? v : { ...v, saved: m, stale: [] }))
      dispatch({ type: 'reset', draft: m })
      setToast(`Mapping saved: ${m.entries.length} row${m.entries.length === 1 ? '' : 's'} mapped.`)
    })
  const discard = () => {
    dispatch({ type: 'reset', draft: saved })
    setToast('Unsaved changes discarded.')
  }
  const suggest = () =>
    run('suggest', async () => {
      const s = await backend.mappingSuggest(draft)
      setSuggestions(s)
    })
  const accept = (list: Suggestion[]) => {
    dispatch({ type: 'accept', rows, proposals: list })
    const left = (suggestions ?? []).filter((s) => !list.includes(s))
    setSuggestions(left.length > 0 ? left : null)
  }
  const exportConfig = () =>
    run('export', async () => {
      const r = await backend.configExport()
      if (r !== null)
        setToast(`Exported ${r.entries} mapping row${r.entries === 1 ? '' : 's'} to ${r.path}`)
    })
  const importConfig = () =>
    run('import', async () => {
      const p = await backend.configImportPreview()
      if (p !== null) setPicked(p)
    })
  const applyImport = (token: string) =>
    run('apply', async () => {
      await backend.configImportApply(token)
      // The dialog stays until the screen shows the imported configuration.
      await onSettingsChanged()
      await reload(false, true)
      setPicked(null)
      setToast('Configuration imported.')
    })

  if (view === null) {
    return (
      <div className="screen" data-testid="screen-mapping">
        <h1>Mapping</h1>
        {error !== null ? (
          <>
            <ErrorAlert error={error} onDismiss={() => setError(null)} />
            <Button
              className="btn"
              onPress={() => {
                setError(null)
                setAttempt((n) => n + 1)
              }}
            >
              Try again
            </Button>
          </>
        ) : (
          <p className="muted" role="status">
            Loading the Didomi configuration and the HubSpot properties…
          </p>
        )}
      </div>
    )
  }

  const mappedCount = draft.entries.filter((e) => rowPaths.has(itemKey(e.item))).length
  return (
    <div className="screen screen-mapping" data-testid="screen-mapping">
      <div className="screen-head">
        <div>
          <h1>
            Mapping{' '}
            {dirty && (
              <span className="pill pill-warn" data-testid="mapping-dirty" role="status">
                Unsaved changes
              </span>
            )}
          </h1>
          <p className="lead">
            Choose the HubSpot contact property each Didomi purpose, preference and value is written
            to. {mappedCount} of {rows.length} rows mapped · {properties.length} compatible
            properties · labels in {view.language}.
          </p>
        </div>
        <div className="row">
          <Button
            className="btn"
            data-testid="config-export"
            onPress={exportConfig}
            isDisabled={busy !== null}
          >
            Export…
          </Button>
          <Button
            className="btn"
            data-testid="config-import"
            onPress={importConfig}
            isDisabled={busy !== null}
          >
            Import…
          </Button>
        </div>
      </div>

      {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
      {toast !== null && (
        <div className="alert alert-ok" role="status" data-testid="mapping-toast">
          <span>{toast}</span>
          <Button className="btn btn-quiet" aria-label="Dismiss" onPress={() => setToast(null)}>
            ×
          </Button>
        </div>
      )}

      <div className="toolbar">
        <SearchField
          className="search"
          value={filter}
          onChange={setFilter}
          aria-label="Filter rows"
        >
          <Input data-testid="mapping-filter" placeholder="Filter rows by name or property" />
        </SearchField>
        <Button
          className="btn"
          data-testid="mapping-refresh"
          onPress={() => void reload(true, false)}
          isDisabled={loading !== null}
        >
          {loading === 'refresh' ? 'Refreshing…' : 'Refresh'}
        </Button>
        <Button
          className="btn"
          data-testid="mapping-suggest"
          onPress={suggest}
          isDisabled={busy !== null}
        >
          Suggest
        </Button>
        <span className="spacer" />
        <Button
          className="btn"
          data-testid="mapping-discard"
          onPress={discard}
          isDisabled={!dirty || busy !== null}
        >
          Discard
        </Button>
        <Button
          className="btn btn-primary"
          data-testid="mapping-save"
          onPress={save}
          isDisabled={!dirty || busy !== null}
        >
          {busy === 'save' ? 'Saving…' : 'Save'}
        </Button>
      </div>

      {orphans.length > 0 && (
        <div className="alert alert-warn" role="status">
          <strong>Mapped rows that no longer exist in Didomi</strong>
          <ul className="orphans">
            {orphans.map((s) => (
              <li key={itemKey(s.entry.item)} data-testid="mapping-stale" data-reason={s.reason}>
                {describeItem(s.entry.item)} → <code>{s.entry.property}</code>: {s.message}{' '}
                <Button className="btn btn-small" onPress={() => clear(s.entry.item)}>
                  Clear
                </Button>
              </li>
            ))}
          </ul>
        </div>
      )}

      {suggestions !== null && (
        <SuggestionPanel
          suggestions={suggestions}
          rowPaths={rowPaths}
          byName={byName}
          onAccept={accept}
          onDismiss={() => setSuggestions(null)}
        />
      )}

      <div className="mapping-table" role="table" aria-label="Mapping rows">
        <div className="mapping-head" role="row">
          <span role="columnheader">Didomi</span>
          <span role="columnheader">HubSpot property</span>
        </div>
        {shownRows.length === 0 && (
          <p className="muted mapping-none">
            {rows.length === 0
              ? 'The Didomi configuration has no purposes yet.'
              : 'No row matches the filter.'}
          </p>
        )}
        {shownRows.map((r) => {
          const key = itemKey(r.item)
          return (
            <MappingRowView
              key={key}
              row={r}
              entry={entryOf.get(key)}
              stale={staleOf.get(key)}
              message={rowMessages.get(key)}
              candidates={r.kind === 'boolean' ? boolProps : textProps}
              byName={byName}
              holderOf={holderOf}
              creating={creating === key}
              onChoose={choose}
              onClear={clear}
              onEncoding={encode}
              onCreate={create}
            />
          )
        })}
      </div>

      {picked !== null && (
        <ImportDialog
          picked={picked}
          busy={busy === 'apply'}
          onApply={applyImport}
          onCancel={() => setPicked(null)}
          unsaved={dirty}
        />
      )}
    </div>
  )
}

interface RowProps {
  row: DidomiRow
  entry: MappingEntry | undefined
  stale: StaleEntry | undefined
  message: string | undefined
  candidates: HubSpotPropertyOption[]
  byName: Map<string, HubSpotPropertyOption>
  holderOf: Map<string, string>
  creating: boolean
  onChoose: (item: DidomiItem, name: string) => void
  onClear: (item: DidomiItem) => void
  onEncoding: (item: DidomiItem, encoding: ValueEncoding) => void
  onCreate: (item: DidomiItem) => void
}

function MappingRowView(p: RowProps) {
  const { row, entry, stale } = p
  const usedBy = (name: string) => (entry?.property === name ? undefined : p.holderOf.get(name))
  const cls = [
    'mapping-row',
    `depth-${row.depth}`,
    stale ? 'is-stale' : '',
    p.message ? 'is-refused' : ''
  ]
    .filter(Boolean)
    .join(' ')
  return (
    <div
      className={cls}
      style={{ '--depth': row.depth } as CSSProperties}
      role="row"
      data-testid="mapping-row"
      data-depth={row.depth}
      data-item={JSON.stringify(row.item)}
      data-kind={row.kind}
    >
      <div className="mapping-left" role="cell">
        <span className="row-label" title={row.path}>
          {row.label}
        </span>
        <span className={`badge badge-${row.kind}`}>{row.kind}</span>
      </div>
      <div className="mapping-right" role="cell">
        <div className="row">
          <PropertyField
            ariaLabel={`HubSpot property for ${row.path}`}
            candidates={p.candidates}
            byName={p.byName}
            selected={entry?.property ?? null}
            usedBy={usedBy}
            onChoose={(name) => p.onChoose(row.item, name)}
            onCreate={() => p.onCreate(row.item)}
            isDisabled={p.creating}
          />
          {row.item.kind === 'preference' && (
            <RadioGroup
              className="encoding"
              orientation="horizontal"
              aria-label={`Write ${row.label} as`}
              value={entry?.encoding ?? (row.labelsProblem !== null ? 'ids' : 'labels')}
              isDisabled={entry === undefined}
              onChange={(v) => p.onEncoding(row.item, v as ValueEncoding)}
              data-testid="mapping-encoding"
            >
              <Label className="encoding-label">as</Label>
              <Radio value="labels" className="seg" isDisabled={row.labelsProblem !== null}>
                labels
              </Radio>
              <Radio value="ids" className="seg">
                ids
              </Radio>
            </RadioGroup>
          )}
          {entry !== undefined && (
            <Button
              className="btn btn-small btn-quiet-text"
              aria-label={`Clear the mapping of ${row.path}`}
              data-testid="mapping-clear"
              onPress={() => p.onClear(row.item)}
            >
              Clear
            </Button>
          )}
        </div>
        {row.labelsProblem !== null && (
          <p className="row-note muted" data-testid="mapping-ids-only">
            Written as value ids: {row.labelsProblem}
          </p>
        )}
        {p.creating && (
          <p className="row-note" role="status">
            Creating a HubSpot property…
          </p>
        )}
        {stale !== undefined && (
          <p className="row-note row-stale" data-testid="mapping-stale" data-reason={stale.reason}>
            ⚠ {stale.message} Choose another property or Clear.
          </p>
        )}
        {p.message !== undefined && (
          <p className="row-note row-refused" role="alert" data-testid="mapping-refused">
            {p.message}
          </p>
        )}
      </div>
    </div>
  )
}

function SuggestionPanel(props: {
  suggestions: Suggestion[]
  rowPaths: Map<string, string>
  byName: Map<string, HubSpotPropertyOption>
  onAccept: (list: Suggestion[]) => void
  onDismiss: () => void
}) {
  const { suggestions } = props
  return (
    <section
      className="card suggestions"
      data-testid="mapping-suggestions"
      aria-label="Suggestions"
    >
      <div className="card-header">
        <h2>Suggestions for unmapped rows</h2>
        <div className="row">
          <Button
            className="btn btn-primary btn-small"
            data-testid="mapping-suggest-accept-all"
            isDisabled={suggestions.length === 0}
            onPress={() => props.onAccept(suggestions)}
          >
            Accept all
          </Button>
          <Button
            className="btn btn-small"
            data-testid="mapping-suggest-dismiss"
            onPress={props.onDismiss}
          >
            Dismiss
          </Button>
        </div>
      </div>
      {suggestions.length === 0 ? (
        <p className="muted">
          No proposal: every unmapped row lacks a property with a similar name.
        </p>
      ) : (
        <>
          <p className="muted">Nothing changes until you accept; then Save.</p>
          <ul className="suggestion-list">
            {suggestions.map((s) => {
              const prop = props.byName.get(s.property)
              return (
                <li key={itemKey(s.item)} data-testid="mapping-suggestion">
                  <span>
                    {props.rowPaths.get(itemKey(s.item)) ?? describeItem(s.item)} →{' '}
                    <strong>{prop?.label ?? s.propertyLabel}</strong> <code>{s.property}</code>{' '}
                    <span className="muted">({Math.round(s.score * 100)}% match)</span>
                  </span>
                  <Button
                    className="btn btn-small"
                    data-testid="mapping-suggest-accept"
                    onPress={() => props.onAccept([s])}
                  >
                    Accept
                  </Button>
                </li>
              )
            })}
          </ul>
        </>
      )}
    </section>
  )
}
