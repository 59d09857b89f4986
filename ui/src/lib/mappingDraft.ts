/**
 * Pure helpers of the Mapping screen: stable row keys, which properties a row may use, the
 * dropdown filter, editing the draft (refusing a property another row holds) and the
 * unsaved-changes test. No React here, so all of it is unit-tested.
 */
import type { DidomiItem } from '../bindings/DidomiItem'
import type { ItemKind } from '../bindings/ItemKind'
import type { Mapping } from '../bindings/Mapping'
import type { MappingEntry } from '../bindings/MappingEntry'
import type { ValueEncoding } from '../bindings/ValueEncoding'
import type { DidomiRow, HubSpotPropertyOption } from './mappingTypes'

/** A stable string key of a Didomi item (ids only, never labels). */
export function itemKey(item: DidomiItem): string {
  switch (item.kind) {
    case 'purpose':
      return `p:${item.purposeId}`
    case 'preference':
      return `f:${item.purposeId}/${item.preferenceId}`
    case 'value':
      return `v:${item.purposeId}/${item.preferenceId}/${item.valueId}`
  }
}

/**
 * The properties a row of `kind` may use, in the order the core gave them (custom first, then
 * HubSpot-defined). Computed once per kind, not per row.
 */
export function compatibleProperties(
  properties: HubSpotPropertyOption[],
  kind: ItemKind
): HubSpotPropertyOption[] {
  return properties.filter((p) => p.compatible.includes(kind))
}

/**
 * Properties whose label, internal name or type contain every word of `text` (case- and
 * accent-insensitive); all of them when `text` is blank.
 */
export function filterProperties(
  properties: HubSpotPropertyOption[],
  text: string
): HubSpotPropertyOption[] {
  const words = fold(text).split(/\s+/).filter(Boolean)
  if (words.length === 0) return properties
  return properties.filter((p) => {
    const hay = searchText(p)
    return words.every((w) => hay.includes(w))
  })
}

const searchCache = new WeakMap<HubSpotPropertyOption, string>()
function searchText(p: HubSpotPropertyOption): string {
  let s = searchCache.get(p)
  if (s === undefined) {
    s = fold(`${p.label} ${p.name} ${p.type} ${p.fieldType}`)
    searchCache.set(p, s)
  }
  return s
}

function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
}

/** The result of trying to map a row: the new draft, or why it was refused. */
export type AssignResult = { ok: true; draft: Mapping } | { ok: false; message: string }

/**
 * Maps `item` to `property` in `draft` (replacing its previous property, keeping its
 * encoding). Refused, naming the row, when another row already writes to that property.
 */
export function assignProperty(
  draft: Mapping,
  rows: DidomiRow[],
  item: DidomiItem,
  property: string,
  encoding?: ValueEncoding
): AssignResult {
  const key = itemKey(item)
  const holder = draft.entries.find((e) => e.property === property && itemKey(e.item) !== key)
  if (holder !== undefined) {
    const row = rows.find((r) => itemKey(r.item) === itemKey(holder.item))
    return {
      ok: false,
      message: `“${property}” is already used by ${row?.path ?? describeItem(holder.item)}. Each HubSpot property can hold one Didomi row: clear that row first or choose another property.`
    }
  }
  const existing = draft.entries.find((e) => itemKey(e.item) === key)
  // Labels that cannot be read back (a `;` in one, two alike) leave ids as the only encoding.
  const idsOnly = (rows.find((r) => itemKey(r.item) === key)?.labelsProblem ?? null) !== null
  const entry: MappingEntry = {
    item,
    property,
    encoding: idsOnly ? 'ids' : (encoding ?? existing?.encoding ?? 'labels')
  }
  const entries = existing
    ? draft.entries.map((e) => (e === existing ? entry : e))
    : [...draft.entries, entry]
  return { ok: true, draft: { entries: orderLike(entries, rows) } }
}

/** Removes the mapping of `item` from `draft`. */
export function clearItem(draft: Mapping, item: DidomiItem): Mapping {
  const key = itemKey(item)
  return { entries: draft.entries.filter((e) => itemKey(e.item) !== key) }
}

/** Sets the value encoding of a mapped preference row (no-op when unmapped). */
export function setEncoding(draft: Mapping, item: DidomiItem, encoding: ValueEncoding): Mapping {
  const key = itemKey(item)
  return {
    entries: draft.entries.map((e) => (itemKey(e.item) === key ? { ...e, encoding } : e))
  }
}

/** `true` when `a` and `b` map the same items to the same properties and encodings. */
export function sameMapping(a: Mapping, b: Mapping): boolean {
  if (a.entries.length !== b.entries.length) return false
  const canon = (m: Mapping) =>
    m.entries
      .map(
        (e) => `${itemKey(e.item)}=${e.property}#${e.item.kind === 'preference' ? e.encoding : ''}`
      )
      .sort()
      .join('\n')
  return canon(a) === canon(b)
}

/** A fallback description of an item that has no row any more (removed in Didomi). */
export function describeItem(item: DidomiItem): string {
  switch (item.kind) {
    case 'purpose':
      return `purpose ${item.purposeId}`
    case 'preference':
      return `preference ${item.preferenceId} (purpose ${item.purposeId})`
    case 'value':
      return `value ${item.valueId} of preference ${item.preferenceId}`
  }
}

/** Keeps entries in the row order of the Didomi tree (entries without a row go last). */
function orderLike(entries: MappingEntry[], rows: DidomiRow[]): MappingEntry[] {
  const pos = new Map(rows.map((r, i) => [itemKey(r.item), i]))
  return [...entries].sort(
    (x, y) => (pos.get(itemKey(x.item)) ?? rows.length) - (pos.get(itemKey(y.item)) ?? rows.length)
  )
}

/** Rows whose label or path contain `text` (case- and accent-insensitive). */
export function filterRows(
  rows: DidomiRow[],
  text: string,
  propertyOf: (row: DidomiRow) => string | undefined
): DidomiRow[] {
  const needle = fold(text.trim())
  if (needle === '') return rows
  return rows.filter(
    (r) => fold(r.path).includes(needle) || fold(propertyOf(r) ?? '').includes(needle)
  )
}

/** The editable state of the Mapping screen: the draft and per-row refusal messages. */
export type EditState = { draft: Mapping; messages: Map<string, string> }

/** The state before anything is loaded. */
export const EMPTY_EDIT: EditState = { draft: { entries: [] }, messages: new Map() }

/** What the Mapping screen can do to its draft. */
export type EditAction =
  | { type: 'reset'; draft: Mapping }
  | { type: 'choose'; rows: DidomiRow[]; item: DidomiItem; property: string }
  | { type: 'clear'; item: DidomiItem }
  | { type: 'encoding'; item: DidomiItem; encoding: ValueEncoding }
  | { type: 'accept'; rows: DidomiRow[]; proposals: { item: DidomiItem; property: string }[] }

function withMessage(messages: Map<string, string>, key: string, message: string | null) {
  if (message === null && !messages.has(key)) return messages
  const m = new Map(messages)
  if (message === null) m.delete(key)
  else m.set(key, message)
  return m
}

/**
 * Applies one edit. A refused choice leaves the draft as it was and puts the reason on the
 * row; a successful one clears the row's message.
 */
export function editReducer(state: EditState, action: EditAction): EditState {
  switch (action.type) {
    case 'reset':
      return { draft: action.draft, messages: new Map() }
    case 'choose': {
      const key = itemKey(action.item)
      const r = assignProperty(state.draft, action.rows, action.item, action.property)
      return r.ok
        ? { draft: r.draft, messages: withMessage(state.messages, key, null) }
        : { draft: state.draft, messages: withMessage(state.messages, key, r.message) }
    }
    case 'clear':
      return {
        draft: clearItem(state.draft, action.item),
        messages: withMessage(state.messages, itemKey(action.item), null)
      }
    case 'encoding':
      return { ...state, draft: setEncoding(state.draft, action.item, action.encoding) }
    case 'accept': {
      let next = state
      for (const p of action.proposals) {
        next = editReducer(next, { type: 'choose', rows: action.rows, ...p })
      }
      return next
    }
  }
}
