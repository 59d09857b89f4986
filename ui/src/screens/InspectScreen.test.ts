import { describe, expect, it } from 'vitest'

import { MATCH_LABEL, shown } from './InspectScreen'

describe('Inspect screen wording', () => {
  it('shows nothing, a cleared value and a value differently', () => {
    expect(shown(null)).toBe('—')
    expect(shown('')).toBe('(empty)')
    expect(shown('true')).toBe('true')
  })
  it('names every comparison in words, not colour alone', () => {
    expect(MATCH_LABEL.mismatch.text).toBe('Mismatch')
    expect(MATCH_LABEL.not_written.text).toBe('Not written')
    expect(new Set(Object.values(MATCH_LABEL).map((m) => m.text)).size).toBe(5)
  })
})
