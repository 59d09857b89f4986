import { describe, expect, it } from 'vitest'

import type { DidomiItem } from '../bindings/DidomiItem'
import {
  compatibleProperties,
  editReducer,
  EMPTY_EDIT,
  filterProperties,
  itemKey,
  sameMapping
} from './mappingDraft'
import type { DidomiRow, HubSpotPropertyOption } from './mappingTypes'

const purpose: DidomiItem = { kind: 'purpose', purposeId: 'news' }
const pref: DidomiItem = { kind: 'preference', purposeId: 'news', preferenceId: 'topics' }
const value: DidomiItem = {
  kind: 'value',
  purposeId: 'news',
  preferenceId: 'topics',
  valueId: 'sports'
}
const row = (
  item: DidomiItem,
  kind: 'boolean' | 'text',
  depth: number,
  path: string
): DidomiRow => ({
  item,
  kind,
  label: path.split(' › ').pop() ?? path,
  depth,
  purposeLabel: 'News',
  preferenceLabel: depth > 0 ? 'Topics' : null,
  path,
  preferenceType: null,
  labelsProblem: null
})
const rows: DidomiRow[] = [
  row(purpose, 'boolean', 0, 'News'),
  row(pref, 'text', 1, 'News › Topics'),
  row(value, 'boolean', 2, 'News › Topics › Sports')
]
const prop = (name: string, label: string, kind: 'boolean' | 'text'): HubSpotPropertyOption => ({
  name,
  label,
  type: kind === 'boolean' ? 'enumeration' : 'string',
  fieldType: kind === 'boolean' ? 'booleancheckbox' : 'text',
  typeLabel: kind,
  groupName: 'didomi',
  hubspotDefined: false,
  compatible: [kind],
  options: []
})

describe('mapping draft', () => {
  it('keys items by ids only', () => {
    expect(itemKey(value), 'value key').toBe('v:news/topics/sports')
    expect(itemKey(pref), 'preference key differs from its purpose').not.toBe(itemKey(purpose))
  })

  it('refuses a property another row holds, naming that row, and keeps the draft', () => {
    let s = editReducer(EMPTY_EDIT, { type: 'choose', rows, item: purpose, property: 'news_ok' })
    expect(s.draft.entries, 'mapped').toHaveLength(1)
    const before = s.draft
    s = editReducer(s, { type: 'choose', rows, item: value, property: 'news_ok' })
    expect(s.draft, 'draft unchanged').toBe(before)
    expect(s.messages.get(itemKey(value)), 'names the holder').toMatch(/already used by News\./)
    s = editReducer(s, { type: 'choose', rows, item: value, property: 'sports' })
    expect(s.messages.has(itemKey(value)), 'a good choice clears the message').toBe(false)
  })

  it('keeps entries in tree order and the encoding of a remapped preference', () => {
    let s = editReducer(EMPTY_EDIT, { type: 'choose', rows, item: value, property: 'sports' })
    s = editReducer(s, { type: 'choose', rows, item: pref, property: 'topics' })
    s = editReducer(s, { type: 'encoding', item: pref, encoding: 'ids' })
    s = editReducer(s, { type: 'choose', rows, item: pref, property: 'topics2' })
    expect(
      s.draft.entries.map((e) => e.property),
      'tree order'
    ).toEqual(['topics2', 'sports'])
    expect(s.draft.entries[0]?.encoding, 'encoding kept').toBe('ids')
    s = editReducer(s, { type: 'clear', item: pref })
    expect(
      s.draft.entries.map((e) => e.property),
      'cleared'
    ).toEqual(['sports'])
  })

  it('writes value ids when the labels of a preference cannot be read back', () => {
    const odd = rows.map((r) =>
      r.item.kind === 'preference' ? { ...r, labelsProblem: 'Two values are labelled “A”.' } : r
    )
    const s = editReducer(EMPTY_EDIT, { type: 'choose', rows: odd, item: pref, property: 't' })
    expect(s.draft.entries[0]?.encoding, 'ids forced').toBe('ids')
  })

  it('accepts several proposals and reports the refused one on its row', () => {
    const s = editReducer(EMPTY_EDIT, {
      type: 'accept',
      rows,
      proposals: [
        { item: purpose, property: 'x' },
        { item: value, property: 'x' }
      ]
    })
    expect(s.draft.entries, 'first accepted').toHaveLength(1)
    expect(s.messages.get(itemKey(value)), 'second refused').toMatch(/already used by News/)
  })

  it('compares mappings regardless of order; encoding matters only for preferences', () => {
    const a = {
      entries: [
        { item: purpose, property: 'a', encoding: 'labels' as const },
        { item: pref, property: 'b', encoding: 'ids' as const }
      ]
    }
    const b = {
      entries: [
        { item: pref, property: 'b', encoding: 'ids' as const },
        { item: purpose, property: 'a', encoding: 'ids' as const }
      ]
    }
    expect(sameMapping(a, b), 'same').toBe(true)
    const c = {
      entries: [
        { item: purpose, property: 'a', encoding: 'labels' as const },
        { item: pref, property: 'b', encoding: 'labels' as const }
      ]
    }
    expect(sameMapping(a, c), 'preference encoding differs').toBe(false)
  })

  it('filters properties by every word in label, name or type, accent-insensitively', () => {
    const props = [prop('sports_ok', 'Sports préférés', 'boolean'), prop('city', 'City', 'text')]
    expect(
      compatibleProperties(props, 'text').map((p) => p.name),
      'kind'
    ).toEqual(['city'])
    expect(
      filterProperties(props, 'prefer sport').map((p) => p.name),
      'words'
    ).toEqual(['sports_ok'])
    expect(
      filterProperties(props, 'string').map((p) => p.name),
      'type'
    ).toEqual(['city'])
    expect(filterProperties(props, '  '), 'blank = all').toBe(props)
  })
})
