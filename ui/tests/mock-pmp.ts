/* eslint-disable @typescript-eslint/only-throw-error -- the real backend rejects with plain { code, message } objects, so the mock must too */
/**
 * The mocked Options / Mapping / config-file commands for the browser tests and the mapping
 * benchmark. `pmpMock(cmd, args, scenario)` answers a command or returns `undefined` when the
 * command is not one of these. The scenario (`window.__mockScenario.pmp`) picks the size of the
 * Didomi tree and the property list, stale entries, and what the import file holds.
 */

type Json = Record<string, unknown>
type Kind = 'boolean' | 'text'
type Item =
  | { kind: 'purpose'; purposeId: string }
  | { kind: 'preference'; purposeId: string; preferenceId: string }
  | { kind: 'value'; purposeId: string; preferenceId: string; valueId: string }
type Entry = { item: Item; property: string; encoding: 'labels' | 'ids' }
type Row = {
  item: Item
  kind: Kind
  label: string
  depth: number
  purposeLabel: string
  preferenceLabel: string | null
  path: string
  preferenceType: string | null
  labelsProblem: string | null
}
type Prop = {
  name: string
  label: string
  type: string
  fieldType: string
  typeLabel: string
  groupName: string
  hubspotDefined: boolean
  compatible: Kind[]
  options: { label: string; value: string }[]
}

/** What a test or the benchmark asks of these commands. */
export interface PmpScenario {
  /** Generate this many Didomi rows (purposes of 1 + 2 preferences × 3 values = 9 rows). */
  rows?: number
  /** Generate this many HubSpot properties (half boolean, half text). */
  properties?: number
  /** Saved entries that are stale: one property missing, one Didomi item removed. */
  stale?: boolean
  /** Creating the "Didomi Changed" property hits a same-name property of another type. */
  conflict?: boolean
  /** Add a preference nested under a value (Newsletter › Topics › Events › Event regions). */
  deep?: boolean
  /** What the picked import file holds; `cancel` = the dialog was closed. */
  importFile?: 'ok' | 'invalid' | 'cancel'
}

const PORTAL = 4242

const key = (i: Item) =>
  i.kind === 'purpose'
    ? `p:${i.purposeId}`
    : i.kind === 'preference'
      ? `f:${i.purposeId}/${i.preferenceId}`
      : `v:${i.purposeId}/${i.preferenceId}/${i.valueId}`

function bool(name: string, label: string, hubspotDefined = false): Prop {
  return {
    name,
    label,
    type: 'enumeration',
    fieldType: 'booleancheckbox',
    typeLabel: 'enumeration/booleancheckbox (Single checkbox)',
    groupName: hubspotDefined ? 'contactinformation' : 'didomi',
    hubspotDefined,
    compatible: ['boolean'],
    options: [
      { label: 'Yes', value: 'true' },
      { label: 'No', value: 'false' }
    ]
  }
}
function text(name: string, label: string, hubspotDefined = false): Prop {
  return {
    name,
    label,
    type: 'string',
    fieldType: 'text',
    typeLabel: 'string/text (Single-line text)',
    groupName: hubspotDefined ? 'contactinformation' : 'didomi',
    hubspotDefined,
    compatible: ['text'],
    options: []
  }
}

function smallTree(): Row[] {
  const rows: Row[] = []
  const purpose = (id: string, label: string) => {
    rows.push({
      item: { kind: 'purpose', purposeId: id },
      kind: 'boolean',
      label,
      depth: 0,
      purposeLabel: label,
      preferenceLabel: null,
      path: label,
      preferenceType: null,
      labelsProblem: null
    })
  }
  const pref = (
    pid: string,
    plabel: string,
    id: string,
    label: string,
    values: string[],
    labelsProblem: string | null = null
  ) => {
    rows.push({
      item: { kind: 'preference', purposeId: pid, preferenceId: id },
      kind: 'text',
      label,
      depth: 1,
      purposeLabel: plabel,
      preferenceLabel: label,
      path: `${plabel} › ${label}`,
      preferenceType: 'multi',
      labelsProblem
    })
    for (const v of values) {
      rows.push({
        item: { kind: 'value', purposeId: pid, preferenceId: id, valueId: v.toLowerCase() },
        kind: 'boolean',
        label: v,
        depth: 2,
        purposeLabel: plabel,
        preferenceLabel: label,
        path: `${plabel} › ${label} › ${v}`,
        preferenceType: null,
        labelsProblem: null
      })
    }
  }
  purpose('newsletter', 'Newsletter')
  pref('newsletter', 'Newsletter', 'topics', 'Topics', ['Sports', 'Politics'])
  pref(
    'newsletter',
    'Newsletter',
    'frequency',
    'Frequency',
    ['Daily', 'Weekly'],
    'Two values are both labelled “Weekly”, so labels cannot be read back.'
  )
  purpose('marketing', 'Marketing emails')
  purpose('analytics', 'Analytics')
  return rows
}

/** A value (Events, depth 2) whose nested preference (depth 3) has values (depth 4). */
function deepRows(): Row[] {
  const base = { purposeLabel: 'Newsletter', labelsProblem: null }
  const path = 'Newsletter › Topics › Events'
  const regions = ['Europe', 'Americas', 'Asia-Pacific']
  return [
    {
      ...base,
      item: { kind: 'value', purposeId: 'newsletter', preferenceId: 'topics', valueId: 'events' },
      kind: 'boolean',
      label: 'Events',
      depth: 2,
      preferenceLabel: 'Topics',
      path,
      preferenceType: null
    },
    {
      ...base,
      item: { kind: 'preference', purposeId: 'newsletter', preferenceId: 'event-regions' },
      kind: 'text',
      label: 'Event regions',
      depth: 3,
      preferenceLabel: 'Event regions',
      path: `${path} › Event regions`,
      preferenceType: 'multi'
    },
    ...regions.map((v): Row => ({
      ...base,
      item: {
        kind: 'value',
        purposeId: 'newsletter',
        preferenceId: 'event-regions',
        valueId: v.toLowerCase()
      },
      kind: 'boolean',
      label: v,
      depth: 4,
      preferenceLabel: 'Event regions',
      path: `${path} › Event regions › ${v}`,
      preferenceType: null
    }))
  ]
}

function bigTree(n: number): Row[] {
  const rows: Row[] = []
  for (let p = 0; rows.length < n; p++) {
    const pl = `Purpose ${p}`
    const pid = `purpose-${p}`
    rows.push({
      item: { kind: 'purpose', purposeId: pid },
      kind: 'boolean',
      label: pl,
      depth: 0,
      purposeLabel: pl,
      preferenceLabel: null,
      path: pl,
      preferenceType: null,
      labelsProblem: null
    })
    for (let f = 0; f < 2 && rows.length < n; f++) {
      const fl = `Preference ${p}.${f}`
      const fid = `pref-${p}-${f}`
      rows.push({
        item: { kind: 'preference', purposeId: pid, preferenceId: fid },
        kind: 'text',
        label: fl,
        depth: 1,
        purposeLabel: pl,
        preferenceLabel: fl,
        path: `${pl} › ${fl}`,
        preferenceType: null,
        labelsProblem: null
      })
      for (let v = 0; v < 3 && rows.length < n; v++) {
        rows.push({
          item: { kind: 'value', purposeId: pid, preferenceId: fid, valueId: `v${v}` },
          kind: 'boolean',
          label: `Value ${v}`,
          depth: 2,
          purposeLabel: pl,
          preferenceLabel: fl,
          path: `${pl} › ${fl} › Value ${v}`,
          preferenceType: null,
          labelsProblem: null
        })
      }
    }
  }
  return rows
}

function smallProps(): Prop[] {
  return [
    bool('newsletter_consent', 'Newsletter consent'),
    bool('marketing_emails', 'Marketing emails'),
    bool('sports', 'Sports'),
    bool('analytics_consent', 'Analytics'),
    text('newsletter_topics', 'Topics'),
    text('email_frequency', 'Email frequency'),
    bool('hs_email_optout_marketing', 'Opted out of marketing email', true),
    text('hs_language', 'Preferred language', true),
    text('city', 'City', true)
  ]
}

function bigProps(n: number): Prop[] {
  const out: Prop[] = []
  for (let i = 0; i < n; i++) {
    const hubspotDefined = i >= n * 0.6
    const name = `${hubspotDefined ? 'hs_' : ''}prop_${i}`
    out.push(
      i % 2 === 0
        ? bool(name, `Consent property ${i}`, hubspotDefined)
        : text(name, `Text property ${i}`, hubspotDefined)
    )
  }
  return out.sort((a, b) => Number(a.hubspotDefined) - Number(b.hubspotDefined))
}

/** The mock's state, created on first use from the scenario. */
let state: {
  rows: Row[]
  properties: Prop[]
  saved: Entry[]
  stale: { entry: Entry; reason: string; message: string }[]
  options: Json
  changedCreated: boolean
} | null = null

function init(sc: PmpScenario) {
  const rows = sc.rows !== undefined ? bigTree(sc.rows) : smallTree()
  if (sc.deep === true) rows.splice(4, 0, ...deepRows())
  const properties = sc.properties !== undefined ? bigProps(sc.properties) : smallProps()
  const saved: Entry[] = [
    {
      item: { kind: 'purpose', purposeId: 'marketing' },
      property: 'marketing_emails',
      encoding: 'labels'
    }
  ]
  const stale: { entry: Entry; reason: string; message: string }[] = []
  if (sc.stale) {
    const missing: Entry = {
      item: { kind: 'purpose', purposeId: 'analytics' },
      property: 'old_analytics',
      encoding: 'labels'
    }
    const removed: Entry = {
      item: { kind: 'purpose', purposeId: 'retired' },
      property: 'legacy_flag',
      encoding: 'labels'
    }
    saved.push(missing, removed)
    stale.push(
      {
        entry: missing,
        reason: 'PropertyMissing',
        message: 'The HubSpot property “old_analytics” no longer exists.'
      },
      {
        entry: removed,
        reason: 'DidomiItemRemoved',
        message: 'This purpose was removed from the Didomi configuration.'
      }
    )
  }
  state = {
    rows,
    properties,
    saved,
    stale,
    options: {
      propertyGroup: 'didomi',
      batchSize: 100,
      upsert: false,
      bidirectional: false,
      hubspotAccountId: null,
      didomiChangedProperty: 'didomi_changed'
    },
    changedCreated: false
  }
  return state
}

function rowPath(s: NonNullable<typeof state>, item: Item) {
  return s.rows.find((r) => key(r.item) === key(item))?.path ?? key(item)
}

function validate(s: NonNullable<typeof state>, entries: Entry[]) {
  const seen = new Map<string, Item>()
  for (const e of entries) {
    const held = seen.get(e.property)
    if (held !== undefined) {
      throw {
        code: 'MappingDuplicateTarget',
        message: `“${e.property}” is mapped from both ${rowPath(s, held)} and ${rowPath(s, e.item)}. Keep one.`
      }
    }
    seen.set(e.property, e.item)
    const p = s.properties.find((x) => x.name === e.property)
    const row = s.rows.find((r) => key(r.item) === key(e.item))
    if (p === undefined || row === undefined || !p.compatible.includes(row.kind)) {
      throw {
        code: 'MappingStale',
        message: `${rowPath(s, e.item)} → “${e.property}” cannot be saved: the property is missing or incompatible. Clear the row or choose another property.`
      }
    }
  }
}

/** Answers one Options / Mapping / config-file command, or `undefined` for any other. */
export function pmpMock(cmd: string, args: Json, sc: PmpScenario): unknown {
  const s = state ?? init(sc)
  switch (cmd) {
    case 'options_set_upsert':
      s.options = { ...s.options, upsert: args.on === true }
      return s.options
    case 'options_enable_bidirectional': {
      const text = String(args.account)
      const m = /\/(\d+)(\/|$)/.exec(text) ?? /^\s*(\d+)\s*$/.exec(text)
      if (m === null) {
        throw {
          code: 'InvalidInput',
          message: `“${text}” is not a HubSpot account id. Enter the number (e.g. 146310066) or paste a HubSpot URL that contains it.`
        }
      }
      const id = Number(m[1])
      if (id !== PORTAL) {
        throw {
          code: 'BidirectionalAccountMismatch',
          message: `HubSpot account ${id} is not the connected portal (${PORTAL}). Enter ${PORTAL}, or connect portal ${id} on the Connect screen first.`
        }
      }
      if (sc.conflict) {
        throw {
          code: 'PropertyConflict',
          message:
            'HubSpot already has a property “didomi_changed” of type string (text), not a number. It was left untouched: rename or delete it in HubSpot, then turn the flow on again.'
        }
      }
      const created = !s.changedCreated
      s.changedCreated = true
      s.options = { ...s.options, bidirectional: true, hubspotAccountId: id }
      return {
        options: s.options,
        groupCreated: false,
        propertyCreated: created,
        propertyName: 'didomi_changed'
      }
    }
    case 'options_disable_bidirectional':
      s.options = { ...s.options, bidirectional: false }
      return s.options
    case 'mapping_load':
      return {
        language: 'en',
        rows: s.rows,
        properties: s.properties,
        saved: { entries: s.saved },
        stale: s.stale
      }
    case 'mapping_save': {
      const entries = (args.draft as { entries: Entry[] }).entries
      validate(s, entries)
      s.saved = entries
      s.stale = []
      return { entries }
    }
    case 'mapping_create_property': {
      const item = args.item as Item
      const row = s.rows.find((r) => key(r.item) === key(item))
      if (row === undefined) throw { code: 'InvalidInput', message: 'Unknown Didomi row.' }
      let name = `didomi_${row.path.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`
      while (s.properties.some((p) => p.name === name)) name += '_2'
      const p = row.kind === 'boolean' ? bool(name, row.path) : text(name, row.path)
      s.properties = [p, ...s.properties]
      return p
    }
    case 'mapping_suggest': {
      const entries = (args.draft as { entries: Entry[] }).entries
      const mapped = new Set(entries.map((e) => key(e.item)))
      const used = new Set(entries.map((e) => e.property))
      const out: { item: Item; property: string; propertyLabel: string; score: number }[] = []
      for (const r of s.rows) {
        if (mapped.has(key(r.item))) continue
        const p = s.properties.find(
          (x) =>
            !used.has(x.name) &&
            x.compatible.includes(r.kind) &&
            x.label.toLowerCase() === r.label.toLowerCase()
        )
        if (p !== undefined) {
          used.add(p.name)
          out.push({ item: r.item, property: p.name, propertyLabel: p.label, score: 0.92 })
        }
      }
      return out
    }
    case 'config_export':
      return { path: '/home/user/didomi-hubspot-config.json', entries: s.saved.length }
    case 'config_import_preview': {
      const kind = sc.importFile ?? 'ok'
      if (kind === 'cancel') return null
      const added: Entry = {
        item: { kind: 'purpose', purposeId: 'newsletter' },
        property: 'newsletter_consent',
        encoding: 'labels'
      }
      const invalid = kind === 'invalid'
      const marketing: Entry = {
        item: { kind: 'purpose', purposeId: 'marketing' },
        property: 'marketing_emails',
        encoding: 'labels'
      }
      return {
        path: '/home/user/didomi-hubspot-config.json',
        preview: {
          token: 'sha256:abc',
          fileVersion: 1,
          exportedAt: '2026-11-20T10:00:00.183628785Z',
          entries: 2,
          warnings: ['The file was exported from HubSpot portal 777, not the connected 4242.'],
          errors: invalid
            ? [
                {
                  path: '$.mapping.entries[1].property',
                  line: 14,
                  column: 19,
                  message: 'expected a string, found a number'
                }
              ]
            : [],
          diff: {
            added: [{ entry: added, row: 'Newsletter', propertyLabel: 'Newsletter consent' }],
            changed: [
              {
                before: {
                  entry: marketing,
                  row: 'Marketing emails',
                  propertyLabel: 'Marketing emails'
                },
                after: {
                  entry: { ...marketing, property: 'sports' },
                  row: 'Marketing emails',
                  propertyLabel: 'Sports'
                }
              }
            ],
            removed: [],
            options: [{ name: 'upsert', before: 'false', after: 'true' }]
          },
          canApply: !invalid
        }
      }
    }
    case 'config_import_apply':
      if (args.token !== 'sha256:abc') {
        throw {
          code: 'ImportChanged',
          message:
            'The file changed since it was previewed. Preview it again, check the changes, then apply'
        }
      }
      s.saved = [
        {
          item: { kind: 'purpose', purposeId: 'newsletter' },
          property: 'newsletter_consent',
          encoding: 'labels'
        },
        {
          item: { kind: 'purpose', purposeId: 'marketing' },
          property: 'sports',
          encoding: 'labels'
        }
      ]
      s.stale = []
      s.options = { ...s.options, upsert: true }
      return {
        version: 1,
        hubspot: { clientId: null, portalId: PORTAL, scopes: [] },
        didomi: { apiKey: null, organizationId: null, connectedAt: null },
        options: s.options,
        mapping: { entries: s.saved }
      }
    default:
      return undefined
  }
}
