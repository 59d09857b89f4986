// Accessibility audit of every screen in every state that matters, with axe-core injected into
// the built UI (ui/dist in headless chromium, mocked backend as in the other browser tests).
// Each state must have zero WCAG 2.0/2.1 A and AA violations. Run with `npm run test:browser`.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, test } from 'node:test'

import { AUTO_RUN_GOING, callArgs, shots, startHarness } from './harness.mjs'

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']
const READY = { connected: true, mapped: 3 }

let h
before(async () => {
  h = await startHarness()
})
after(async () => {
  await h?.close()
})

/** Runs axe on the whole page; returns its violations, each summed up on one line per node. */
async function axe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath })
  const result = await page.evaluate(
    (tags) =>
      window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations']
      }),
    TAGS
  )
  const violations = result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ')}`)
  }))
  return { violations, checked: result.passes.length + result.violations.length }
}

/** Asserts that the page as it is now has no WCAG 2.1 A/AA violation. */
async function audit(page, state) {
  const { violations, checked } = await axe(page)
  assert.ok(checked > 10, `${state}: axe ran its rules (${checked})`)
  assert.deepEqual(violations, [], `${state}: WCAG 2.1 AA violations`)
}

const openAt = async (id, scenario = READY) => {
  const opened = await h.open(scenario)
  await opened.page.getByTestId(`nav-${id}`).click()
  await opened.page.getByTestId(`screen-${id}`).waitFor()
  return opened
}

test('the audit finds a real violation (so zero means zero)', async () => {
  const { page } = await h.open({})
  await page.evaluate(() => {
    const img = document.createElement('img')
    img.src = './icon.png'
    img.setAttribute('data-testid', 'no-alt')
    document.querySelector('main').append(img)
    const low = document.createElement('p')
    low.textContent = 'Barely readable'
    low.style.color = '#c8c8c8'
    document.querySelector('main').prepend(low)
  })
  const { violations } = await axe(page)
  assert.deepEqual(
    violations.map((v) => v.rule).sort(),
    ['color-contrast', 'image-alt'],
    'an image without alt text and low-contrast text are reported'
  )
  await page.close()
})

test('Connect: not connected, installing, connected, confirm dialog', async () => {
  const { page } = await h.open({})
  await page.getByTestId('simulator-status').filter({ hasText: 'reachable' }).waitFor()
  await audit(page, 'connect, not connected')
  await page.getByTestId('hubspot-install').click()
  await page.getByTestId('hubspot-authorize-url').waitFor()
  await audit(page, 'connect, waiting for the install')
  await page.evaluate(() => window.__mock.approve())
  await page.getByTestId('hubspot-account').waitFor()
  await page.getByTestId('didomi-connect').click()
  await page.getByTestId('didomi-account').waitFor()
  await audit(page, 'connect, both connected')
  await page.getByTestId('hubspot-disconnect').click()
  await page.getByTestId('confirm-dialog').waitFor()
  await audit(page, 'connect, confirm disconnect')
  await page.close()
})

test('error banners: install denied, bad paste, Didomi refused, Live with keychain down', async () => {
  const { page } = await h.open({})
  await page.getByTestId('hubspot-install').click()
  await page.getByTestId('hubspot-authorize-url').waitFor()
  await page.evaluate(() => window.__mock.deny())
  await page.getByTestId('error').waitFor()
  await audit(page, 'install denied')
  await page.getByTestId('hubspot-install').click()
  await page.getByTestId('hubspot-paste-input').fill('not a url')
  await page.getByTestId('hubspot-paste-submit').click()
  await page.locator('[data-testid="error"][data-code="HubSpotCodeInvalid"]').waitFor()
  await audit(page, 'bad paste')
  await page.getByTestId('didomi-api-secret').fill('wrong')
  await page.getByTestId('didomi-connect').click()
  await page.locator('[data-testid="error"][data-code="DidomiBadCredentials"]').waitFor()
  await audit(page, 'Didomi refused')
  await page.close()

  const live = await h.open({ mode: 'Live', keychainDown: true })
  await live.page.getByTestId('keychain-unavailable').waitFor()
  await live.page.getByTestId('startup-warning').waitFor()
  await audit(live.page, 'Live, keychain unavailable, startup warning')
  await live.page.close()
})

test('Options: defaults, the account form, a refusal, bidirectional on', async () => {
  const { page } = await openAt('options', { connected: true })
  await audit(page, 'options')
  await page.getByTestId('options-bidirectional').click()
  await page.getByTestId('options-account-id').fill('999')
  await audit(page, 'options, asking the account')
  await page.getByTestId('options-account-submit').click()
  await page.locator('[data-testid="error"][data-code="BidirectionalAccountMismatch"]').waitFor()
  await audit(page, 'options, account mismatch')
  await page.getByTestId('options-account-id').fill('4242')
  await page.getByTestId('options-account-submit').click()
  await page.getByTestId('options-bidirectional-status').waitFor()
  await audit(page, 'options, bidirectional on')
  await page.close()
})

const row = (page, path) =>
  page.getByTestId('mapping-row').filter({ has: page.locator(`[title="${path}"]`) })

test('Mapping: not connected, loaded, dropdown open, unsaved changes, leaving asks, suggestions, stale', async () => {
  const empty = await openAt('mapping', {})
  await empty.page.getByTestId('mapping-empty').waitFor()
  await audit(empty.page, 'mapping, not connected')
  await empty.page.close()

  const { page } = await openAt('mapping', { connected: true })
  await row(page, 'Newsletter').waitFor()
  await audit(page, 'mapping, loaded')
  await row(page, 'Newsletter').getByTestId('mapping-combobox').click()
  await page.getByRole('listbox').getByTestId('mapping-option').first().waitFor()
  await audit(page, 'mapping, dropdown open')
  assert.equal(
    await page.getByTestId('nav-sync').evaluate((e) => e.closest('[aria-hidden="true"]')),
    null,
    'the rest of the page stays readable while the list is open'
  )
  await page.getByRole('listbox').locator('[data-name="newsletter_consent"]').click()
  await page.getByTestId('mapping-dirty').waitFor()
  await audit(page, 'mapping, unsaved changes')
  await page.getByTestId('nav-sync').click()
  await page.getByTestId('confirm-dialog').waitFor()
  await audit(page, 'mapping, leave with unsaved changes?')
  assert.ok(
    await page.evaluate(() => document.querySelector('main').closest('[inert]') !== null),
    'after a dropdown was open and closed, a modal dialog still makes the page inert'
  )
  await page.getByTestId('confirm-cancel').click()
  await page.getByTestId('mapping-suggest').click()
  await page.getByTestId('mapping-suggestions').waitFor()
  await audit(page, 'mapping, suggestions')
  await page.close()

  const stale = await openAt('mapping', { connected: true, pmp: { stale: true } })
  await stale.page.getByTestId('mapping-stale').first().waitFor()
  await audit(stale.page, 'mapping, stale entries')
  await stale.page.close()
})

test('import preview, invalid import file', async () => {
  const { page } = await openAt('mapping', { connected: true })
  await page.getByTestId('config-import').click()
  await page.getByTestId('import-diff').waitFor()
  await audit(page, 'import preview')
  await page.close()
  const bad = await openAt('mapping', { connected: true, pmp: { importFile: 'invalid' } })
  await bad.page.getByTestId('config-import').click()
  await bad.page.getByTestId('import-error').waitFor()
  await audit(bad.page, 'import, invalid file')
  await bad.page.close()
})

test('Sync: blocked, dry-run plan, push running, result, auto-sync on and running', async () => {
  const blocked = await openAt('sync', {})
  await blocked.page.getByTestId('sync-blocked').waitFor()
  await audit(blocked.page, 'sync, not connected')
  await blocked.page.close()

  const { page } = await openAt('sync')
  await page.getByTestId('auto-sync').waitFor()
  await audit(page, 'sync, ready')
  await page.getByTestId('sync-dry-run').click()
  await page.getByTestId('dry-run-plan').waitFor()
  await audit(page, 'sync, dry-run plan')
  await page.getByTestId('sync-push').click()
  await page.getByTestId('sync-progress').waitFor()
  // Failed records make the bar show its failure count too.
  const progress = { read: 900, toWrite: 500, written: 120, failed: 2, ratePerS: 60, etaSeconds: 6 }
  await page.evaluate((p) => window.__sync.emit(p), progress)
  await page.waitForFunction(
    () => document.querySelector('[data-testid="sync-progress"]')?.dataset.written === '120'
  )
  await audit(page, 'sync, push running')
  await page.evaluate(() => window.__sync.finish('Partial', '3 records were refused by HubSpot.'))
  await page.getByTestId('sync-result-counts').waitFor()
  await audit(page, 'sync, push result')

  await page.getByTestId('auto-sync-minutes').fill('3')
  await page.getByTestId('auto-sync-on').click()
  await page.getByTestId('auto-sync-problem').waitFor()
  await audit(page, 'sync, auto-sync interval refused')
  await page.getByTestId('auto-sync-minutes').fill('15')
  await page.getByTestId('auto-sync-on').check()
  await page.getByTestId('auto-sync-indicator').waitFor()
  await audit(page, 'sync, auto-sync on')
  await page.evaluate((s) => window.__sync.auto(s), AUTO_RUN_GOING)
  await page.getByTestId('auto-sync-cancel').waitFor()
  await audit(page, 'sync, auto-sync running')
  await page.close()
})

test('Sync with bidirectional: pull plan and result with conflicts', async () => {
  const { page } = await openAt('sync', { ...READY, workflow: { bidirectional: true } })
  await page.waitForFunction(() => !document.querySelector('[data-testid="sync-pull"]').disabled)
  await page.getByTestId('sync-pull-dry-run').click()
  await page.getByTestId('sync-pull-plan').waitFor()
  await audit(page, 'sync, pull plan')
  await page.getByTestId('sync-pull').click()
  await page.getByTestId('sync-pull-conflicts').waitFor()
  await audit(page, 'sync, pull result with conflicts')
  await page.close()
})

test('History: empty, runs with records, a run without failures', async () => {
  const empty = await openAt('history', { ...READY, sync: { emptyHistory: true } })
  await empty.page.getByTestId('history-empty').waitFor()
  await audit(empty.page, 'history, empty')
  await empty.page.close()

  const { page } = await openAt('history')
  await page.getByTestId('history-records').waitFor()
  await audit(page, 'history, records')
  await page.getByTestId('history-export-csv').click()
  await page.getByTestId('history-export-done').waitFor()
  await audit(page, 'history, CSV saved')
  await page.getByTestId('history-run').nth(2).click()
  await page.getByTestId('history-records-empty').waitFor()
  await audit(page, 'history, run without failures')
  await page.close()
})

test('Inspect: empty, unknown, a person with a mismatch, dry run, synced, exported, error', async () => {
  const { page, errors } = await openAt('inspect')
  await audit(page, 'inspect, nothing looked up')
  await page.getByTestId('inspect-email').fill('nobody@example.com')
  await page.getByTestId('inspect-lookup').click()
  await page.getByTestId('inspect-unknown').waitFor()
  await audit(page, 'inspect, unknown email')
  await page.getByTestId('inspect-email').fill('Ann@Example.com')
  await page.getByTestId('inspect-lookup').click()
  await page.locator('[data-testid="inspect-result"][data-mismatches="1"]').waitFor()
  assert.equal(await page.locator('[data-testid="inspect-row"][data-match="mismatch"]').count(), 1)
  await page.locator('.inspect-rows').scrollIntoViewIfNeeded()
  await page.screenshot({ path: `${shots}/inspect-mismatch.png` })
  await audit(page, 'inspect, a person with a mismatch and a duplicate user')
  await page.getByTestId('inspect-dry-run').click()
  await page.locator('[data-testid="inspect-sync-result"][data-dry-run="true"]').waitFor()
  await audit(page, 'inspect, dry run of one')
  await page.getByTestId('inspect-sync').click()
  await page.locator('[data-testid="inspect-result"][data-mismatches="0"]').waitFor()
  await page.locator('[data-testid="inspect-sync-result"][data-dry-run="false"]').waitFor()
  await page.getByTestId('inspect-requests').scrollIntoViewIfNeeded()
  await page.screenshot({ path: `${shots}/inspect-synced.png` })
  await audit(page, 'inspect, synced')
  await page.getByTestId('inspect-export').click()
  await page.getByTestId('inspect-exported').waitFor()
  await audit(page, 'inspect, exported')
  await page.getByTestId('inspect-email').fill('broken@example.com')
  await page.getByTestId('inspect-lookup').click()
  await page.locator('[data-testid="error"][data-code="HubSpotUnavailable"]').waitFor()
  await audit(page, 'inspect, lookup failed')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('Workflow: steps, check result, simulated workflow, no mapping, bidirectional off, save error', async () => {
  const { page } = await openAt('workflow', { ...READY, workflow: {} })
  await page.getByTestId('workflow-steps').waitFor()
  await audit(page, 'workflow')
  await page.getByTestId('workflow-check-email').fill('works@example.com')
  await page.getByTestId('workflow-check').click()
  await page.getByTestId('workflow-check-result').waitFor()
  await page.getByTestId('workflow-simulate').click()
  await page.getByTestId('workflow-simulate-status').waitFor()
  await audit(page, 'workflow, check result, simulated workflow on')
  await page.close()

  const none = await openAt('workflow', { ...READY, workflow: { mapped: [] } })
  await none.page.getByTestId('workflow-no-mapping').waitFor()
  await audit(none.page, 'workflow, nothing mapped')
  await none.page.close()

  const off = await openAt('workflow', { ...READY, workflow: { bidirectionalOff: true } })
  await off.page.getByTestId('workflow-bidi-off').waitFor()
  await audit(off.page, 'workflow, bidirectional off')
  await off.page.close()

  const failing = await openAt('workflow', { ...READY, workflow: { saveFails: true } })
  await failing.page.getByTestId('workflow-step-check-5').click()
  await failing.page.getByTestId('error').waitFor()
  await audit(failing.page, 'workflow, save failed')
  await failing.page.close()
})

/**
 * Whether the focused element shows a focus ring: an outline of 2px or more on it, on one of
 * its three nearest ancestors, or (for react-aria's visually hidden switch and radio inputs) on
 * the visible part of its label. Asked again for up to half a second, as a person would see it:
 * a mapping row swaps its look-alike field for the live one when it gets focus.
 */
async function focusRing(page) {
  let ring
  for (let i = 0; i < 10; i++) {
    ring = await ringNow(page)
    if (ring.ok) break
    await page.waitForTimeout(50)
  }
  return ring
}

const ringNow = (page) =>
  page.evaluate(() => {
    const el = document.activeElement
    if (el === null || el === document.body) return { ok: false, what: 'nothing focused' }
    const ringed = (e) => {
      const s = window.getComputedStyle(e)
      return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
    }
    const candidates = [el]
    for (let p = el.parentElement, i = 0; p !== null && i < 3; p = p.parentElement, i++) {
      candidates.push(p)
    }
    const label = el.closest('label')
    if (label !== null) candidates.push(...label.querySelectorAll('*'))
    const what = `${el.tagName.toLowerCase()}[data-testid=${el.getAttribute('data-testid')}] ${el.getAttribute('aria-label') ?? el.textContent?.slice(0, 40)}`
    return { ok: candidates.some(ringed), what }
  })

/**
 * Presses Tab (or Shift+Tab) until the focused element matches `selector`, checking the focus
 * ring at every stop.
 */
async function tabTo(page, selector, { back = false, max = 60 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    const ring = await focusRing(page)
    assert.ok(ring.ok, `a focus ring shows on ${ring.what}`)
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
  }
  assert.fail(`${selector} was not reached with ${back ? 'Shift+Tab' : 'Tab'} in ${max} presses`)
}

/**
 * Presses `key` on the focused element and checks that the focus ring still shows, unless the
 * key activates a control that goes away (`gone`): then the next Tab, which carries on from
 * where it was, must show the ring.
 */
async function press(page, key, { gone = false } = {}) {
  await page.keyboard.press(key)
  if (gone) return
  const ring = await focusRing(page)
  assert.ok(ring.ok, `after ${key}, a focus ring shows on ${ring.what}`)
}

const id = (testid) => `[data-testid="${testid}"]`

test('keyboard only: connect by paste, map a row, save, dry run, push, open the run in History', async () => {
  const { page, errors } = await h.open({ mapped: 3 })
  // Connect HubSpot by pasting the redirect URL.
  await tabTo(page, id('hubspot-install'))
  await press(page, 'Enter', { gone: true })
  await page.getByTestId('hubspot-paste-input').waitFor()
  await tabTo(page, id('hubspot-paste-input'))
  await page.keyboard.type('http://localhost:53134/oauth/callback?code=abc123&state=abc')
  await press(page, 'Enter', { gone: true })
  await page.getByTestId('hubspot-account').waitFor()
  // Connect Didomi with the prefilled key and a typed secret.
  await tabTo(page, id('didomi-api-secret'))
  await page.keyboard.type('typed-secret')
  await tabTo(page, id('didomi-connect'))
  await press(page, 'Space', { gone: true })
  await page.getByTestId('didomi-account').waitFor()

  // Mapping: open the first row's list with the arrow key, close it with Escape, open it again
  // and pick the first property.
  await tabTo(page, id('nav-mapping'), { back: true })
  await press(page, 'Enter')
  await page.getByTestId('mapping-row').first().waitFor()
  await tabTo(page, id('mapping-combobox'))
  await press(page, 'ArrowDown')
  await page.getByRole('listbox').waitFor()
  await press(page, 'Escape')
  await page.getByRole('listbox').waitFor({ state: 'detached' })
  await press(page, 'ArrowDown')
  await page.getByRole('listbox').getByTestId('mapping-option').first().waitFor()
  // The list opens on "New HubSpot property…"; the next option is the first property.
  await press(page, 'ArrowDown')
  await press(page, 'Enter')
  await page.getByTestId('mapping-dirty').waitFor()
  await tabTo(page, id('mapping-save'), { back: true })
  await press(page, 'Enter', { gone: true })
  await page.getByTestId('mapping-dirty').waitFor({ state: 'detached' })
  assert.equal((await callArgs(page, 'mapping_save')).length, 1, 'saved once')

  // Sync: a dry run, then a push that the backend finishes, then its run in History.
  await tabTo(page, id('nav-sync'), { back: true })
  await press(page, 'Enter')
  await tabTo(page, id('sync-dry-run'))
  await press(page, 'Enter', { gone: true })
  await page.getByTestId('dry-run-plan').waitFor()
  await tabTo(page, id('sync-push'))
  await press(page, 'Space', { gone: true })
  await page.getByTestId('sync-progress').waitFor()
  await page.evaluate(() => window.__sync.finish('Succeeded', null))
  await page.getByTestId('sync-open-history').waitFor()
  await tabTo(page, id('sync-open-history'))
  await press(page, 'Enter', { gone: true })
  const row = page.locator('[data-testid="history-run"][aria-selected="true"]')
  await row.waitFor()
  // Run 4 was the dry run.
  assert.equal(await row.getAttribute('data-run-id'), '5', 'the push just made is open')
  assert.equal(await row.getAttribute('data-status'), 'Succeeded', 'with its status')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})
