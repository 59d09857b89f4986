/**
 * The import preview: what the chosen file would change (mappings added, changed, removed;
 * options changed), warnings (another portal or organization) and errors located by JSON path,
 * line and column. Apply only on confirmation; Cancel changes nothing.
 */
import { Button, Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components'

import { describeItem } from '../lib/mappingDraft'
import { formatTime } from '../lib/syncFormat'
import type { MappingEntryView, PickedImport } from '../lib/mappingTypes'

/** Props of `ImportDialog`. */
export interface ImportDialogProps {
  /** The picked file and its preview. */
  picked: PickedImport
  /** Applying is in progress. */
  busy: boolean
  /** The Mapping screen has unsaved edits that the import would replace. */
  unsaved: boolean
  /** Apply with the preview's token. */
  onApply: (token: string) => void
  /** Close without changing anything. */
  onCancel: () => void
}

function target(v: MappingEntryView): string {
  const e = v.entry
  const enc = e.item.kind === 'preference' ? ` (as ${e.encoding})` : ''
  const label =
    v.propertyLabel !== '' && v.propertyLabel !== e.property ? ` “${v.propertyLabel}”` : ''
  return `${e.property}${label}${enc}`
}

function entryText(v: MappingEntryView): string {
  return `${v.row !== '' ? v.row : describeItem(v.entry.item)} → ${target(v)}`
}

/** The modal preview of an import. */
export function ImportDialog({ picked, busy, unsaved, onApply, onCancel }: ImportDialogProps) {
  const { preview } = picked
  const { diff } = preview
  const nothing =
    diff.added.length + diff.changed.length + diff.removed.length + diff.options.length === 0
  return (
    <ModalOverlay
      className="modal-overlay"
      isOpen
      isDismissable={!busy}
      onOpenChange={(open) => {
        if (!open) onCancel()
      }}
    >
      <Modal className="modal modal-wide">
        <Dialog className="dialog" data-testid="import-dialog">
          <Heading slot="title">Import a configuration</Heading>
          <p className="muted path-line">
            From <code>{picked.path}</code> ({preview.entries} mapping row
            {preview.entries === 1 ? '' : 's'}
            {preview.exportedAt !== null && `, exported ${formatTime(preview.exportedAt)}`}
            {preview.fileVersion !== null && `, format version ${preview.fileVersion}`})
          </p>
          {preview.errors.length > 0 && (
            <div className="alert alert-error" role="alert" data-testid="import-errors">
              <div>
                <strong>The file cannot be imported. Fix these and import it again:</strong>
                <ul>
                  {preview.errors.map((p, i) => (
                    <li key={i} data-testid="import-error">
                      <code>{p.path}</code>
                      {p.line !== null &&
                        ` (line ${p.line}${p.column !== null ? `, column ${p.column}` : ''})`}
                      : {p.message}
                    </li>
                  ))}
                </ul>
              </div>
            </div>
          )}
          {preview.warnings.map((w) => (
            <div key={w} className="alert alert-warn" role="status" data-testid="import-warning">
              {w}
            </div>
          ))}
          <div className="import-diff" data-testid="import-diff">
            {nothing ? (
              <p>The file matches the current configuration: nothing would change.</p>
            ) : (
              <>
                <DiffList title="Added" kind="added" items={diff.added.map(entryText)} />
                <DiffList
                  title="Changed"
                  kind="changed"
                  items={diff.changed.map((c) => `${entryText(c.before)}  ⇒  ${target(c.after)}`)}
                />
                <DiffList title="Removed" kind="removed" items={diff.removed.map(entryText)} />
                <DiffList
                  title="Options"
                  kind="options"
                  items={diff.options.map((o) => `${o.name}: ${o.before} ⇒ ${o.after}`)}
                />
              </>
            )}
          </div>
          {unsaved && preview.canApply && (
            <p className="notice">Your unsaved edits on the Mapping screen will be replaced.</p>
          )}
          <div className="row end">
            <Button
              className="btn"
              data-testid="import-cancel"
              onPress={onCancel}
              isDisabled={busy}
            >
              Cancel
            </Button>
            <Button
              className="btn btn-primary"
              data-testid="import-apply"
              isDisabled={!preview.canApply || busy}
              onPress={() => onApply(preview.token)}
            >
              {busy ? 'Applying…' : 'Apply import'}
            </Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  )
}

function DiffList({ title, kind, items }: { title: string; kind: string; items: string[] }) {
  if (items.length === 0) return null
  return (
    <section className={`diff diff-${kind}`} data-testid={`import-diff-${kind}`}>
      <h3>
        {title} ({items.length})
      </h3>
      <ul>
        {items.map((t) => (
          <li key={t}>{t}</li>
        ))}
      </ul>
    </section>
  )
}
