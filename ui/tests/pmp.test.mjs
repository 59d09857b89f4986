// Browser tests of the Options and Mapping screens and the import/export dialogs, against the
// mocked backend (tests/mock-pmp.ts). Run with `npm run test:browser`; screenshots in
// $UI_SHOTS_DIR (default /tmp/ui-shots).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { callArgs, calls, shots, startHarness } from './harness.mjs'

let h
before(async () => {
  h = await startHarness()
})
after(async () => {
  await h?.close()
})

async function openScreen(id, scenario = {}) {
  const opened = await h.open({ connected: true, ...scenario })
  await opened.page.getByTestId(`nav-${id}`).click()
  await opened.page.getByTestId(`screen-${id}`).waitFor()
  return opened
}

const row = (page, path) =>
  page.getByTestId('mapping-row').filter({ has: page.locator(`[title="${path}"]`) })

async function openCombo(page, path) {
  await row(page, path).getByTestId('mapping-combobox').click()
  await page.getByRole('listbox').waitFor()
}

const optionNames = (page) =>
  page
    .getByRole('listbox')
    .getByTestId('mapping-option')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-name')))

test('options: upsert applies at once; bidirectional refuses another portal, then sets up and reports created/reused; off deletes nothing', async () => {
  const { page, errors } = await openScreen('options')
  assert.match(
    await page.getByTestId('screen-options').innerText(),
    /When on, a push creates a HubSpot contact for an email that matches no contact; when off, such people are skipped and counted\./,
    'upsert explained in one sentence'
  )
  await page.getByTestId('options-upsert').click()
  await page.locator('[data-testid="options-upsert"][data-selected]').waitFor()
  assert.deepEqual(await callArgs(page, 'options_set_upsert'), [{ on: true }], 'applied when set')

  await page.getByTestId('options-bidirectional').click()
  await page.getByTestId('options-account-id').fill('999')
  await page.screenshot({ path: join(shots, 'options-ask-account.png') })
  await page.getByTestId('options-account-submit').click()
  const alert = page.locator('[data-testid="error"][data-code="BidirectionalAccountMismatch"]')
  await alert.waitFor()
  assert.match(await alert.innerText(), /999.*4242/s, 'the mismatch names both ids')
  assert.equal(
    await page.getByTestId('options-bidirectional-status').count(),
    0,
    'nothing enabled on a mismatch'
  )
  assert.equal(
    await page.getByTestId('options-bidirectional').getAttribute('data-selected'),
    null,
    'the switch is drawn off while the text says "Not on yet"'
  )
  assert.match(await page.getByTestId('screen-options').innerText(), /Not on yet/)
  await page.screenshot({ path: join(shots, 'options-mismatch.png') })

  await page
    .getByTestId('options-account-id')
    .fill('https://app-eu1.hubspot.com/contacts/4242/objects/0-1/views/all/list')
  await page.getByTestId('options-account-submit').click()
  const status = page.getByTestId('options-bidirectional-status')
  await status.waitFor()
  assert.match(await status.innerText(), /Created the “Didomi Changed” property \(didomi_changed\)/)
  assert.match(await status.innerText(), /group “didomi”/, 'names the property group')
  assert.equal(await page.getByTestId('error').count(), 0, 'the old error is gone')
  await page.screenshot({ path: join(shots, 'options-bidirectional-on.png') })
  assert.deepEqual(
    await callArgs(page, 'options_enable_bidirectional'),
    [
      { account: '999' },
      { account: 'https://app-eu1.hubspot.com/contacts/4242/objects/0-1/views/all/list' }
    ],
    'the pasted URL is passed as typed; the core extracts the id'
  )

  await page.getByTestId('options-bidirectional').click()
  await page.getByTestId('options-bidirectional-off').waitFor()
  assert.match(
    await page.getByTestId('options-bidirectional-off').innerText(),
    /Nothing was deleted/
  )
  assert.ok((await calls(page)).includes('options_disable_bidirectional'), 'turned off')

  await page.getByTestId('options-bidirectional').click()
  await page.getByTestId('options-account-id').fill('4242')
  await page.getByTestId('options-account-submit').click()
  await page.getByTestId('options-bidirectional-status').filter({ hasText: 'Reused' }).waitFor()
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('options: a conflicting "Didomi Changed" property is shown as the error it is', async () => {
  const { page, errors } = await openScreen('options', { pmp: { conflict: true } })
  await page.getByTestId('options-bidirectional').click()
  await page.getByTestId('options-account-id').fill('4242')
  await page.getByTestId('options-account-submit').click()
  const alert = page.locator('[data-testid="error"][data-code="PropertyConflict"]')
  await alert.waitFor()
  assert.match(await alert.innerText(), /left untouched/, 'says nothing was overwritten')
  assert.match(await alert.innerText(), /A HubSpot property is in the way/, 'titled for its code')
  assert.equal(await page.getByTestId('options-bidirectional-status').count(), 0, 'not enabled')
  await page.screenshot({ path: join(shots, 'options-conflict.png') })
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('mapping: nested rows with kind badges; each dropdown offers only compatible properties, custom first', async () => {
  const { page, errors } = await openScreen('mapping')
  const rows = page.getByTestId('mapping-row')
  await rows.first().waitFor()
  assert.equal(await rows.count(), 9, 'purposes, preferences and values')
  assert.deepEqual(
    JSON.parse(await rows.nth(1).getAttribute('data-item')),
    { kind: 'preference', purposeId: 'newsletter', preferenceId: 'topics' },
    'data-item is the DidomiItem'
  )
  assert.equal(await rows.nth(1).getAttribute('data-kind'), 'text', 'preferences are text rows')
  await page.screenshot({ path: join(shots, 'mapping-initial.png') })

  await openCombo(page, 'Newsletter › Topics')
  assert.deepEqual(
    await optionNames(page),
    ['newsletter_topics', 'email_frequency', 'hs_language', 'city'],
    'text row: only text properties, custom before HubSpot-defined'
  )
  assert.equal(
    await page.getByRole('listbox').getByTestId('mapping-new-property').count(),
    1,
    'a "New HubSpot property…" item'
  )
  await page.screenshot({ path: join(shots, 'mapping-dropdown-text.png') })
  await page.keyboard.press('Escape')

  await openCombo(page, 'Newsletter › Topics › Sports')
  const names = await optionNames(page)
  assert.ok(names.includes('sports') && names.includes('hs_email_optout_marketing'), 'booleans')
  assert.ok(!names.includes('newsletter_topics'), 'no text property for a boolean row')
  await page.keyboard.type('sport')
  await page.getByRole('listbox').getByTestId('mapping-option').first().waitFor()
  assert.deepEqual(await optionNames(page), ['sports'], 'typing filters the list')
  await page.keyboard.press('Escape')

  // Keyboard only: focusing the field and typing opens the filtered list.
  await row(page, 'Analytics').getByTestId('mapping-combobox').focus()
  await page.keyboard.type('analy')
  await page.getByRole('listbox').getByTestId('mapping-option').first().waitFor()
  assert.deepEqual(await optionNames(page), ['analytics_consent'], 'typed without a click')
  // The first item is “New HubSpot property…”, the match comes second.
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  await page.getByTestId('mapping-dirty').waitFor()
  assert.equal(
    await row(page, 'Analytics').getByTestId('mapping-combobox').inputValue(),
    'Analytics',
    'arrows and Enter chose the property'
  )
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('mapping: choosing marks unsaved; a property held by another row is refused naming it; discard and save', async () => {
  const { page, errors } = await openScreen('mapping')
  await row(page, 'Newsletter').waitFor()
  assert.equal(await page.getByTestId('mapping-dirty').count(), 0, 'clean after load')

  await openCombo(page, 'Newsletter')
  const held = page.getByRole('listbox').locator('[data-name="marketing_emails"]')
  assert.match(
    await held.innerText(),
    /used by Marketing emails/,
    'the holder is shown in the list'
  )
  await held.click()
  const refused = row(page, 'Newsletter').getByTestId('mapping-refused')
  await refused.waitFor()
  assert.match(await refused.innerText(), /already used by Marketing emails/, 'names the row')
  assert.equal(await page.getByTestId('mapping-dirty').count(), 0, 'the draft did not change')
  await page.screenshot({ path: join(shots, 'mapping-duplicate-refused.png') })

  await openCombo(page, 'Newsletter')
  await page.getByRole('listbox').locator('[data-name="newsletter_consent"]').click()
  await page.getByTestId('mapping-dirty').waitFor()
  assert.equal(
    await row(page, 'Newsletter').getByTestId('mapping-combobox').inputValue(),
    'Newsletter consent',
    'the chosen label shows'
  )
  assert.equal(await row(page, 'Newsletter').getByTestId('mapping-refused').count(), 0, 'cleared')

  await page.getByTestId('mapping-discard').click()
  await page.getByTestId('mapping-dirty').waitFor({ state: 'detached' })
  assert.equal(await row(page, 'Newsletter').getByTestId('mapping-combobox').inputValue(), '')

  await openCombo(page, 'Newsletter › Topics')
  await page.getByRole('listbox').locator('[data-name="newsletter_topics"]').click()
  await row(page, 'Newsletter › Topics').getByRole('radio', { name: 'ids' }).click({ force: true })
  await openCombo(page, 'Newsletter › Frequency')
  await page.getByRole('listbox').locator('[data-name="email_frequency"]').click()
  const frequency = row(page, 'Newsletter › Frequency')
  assert.equal(
    await frequency.getByRole('radio', { name: 'labels' }).isDisabled(),
    true,
    'labels that cannot be read back are not offered'
  )
  assert.match(
    await frequency.getByTestId('mapping-ids-only').innerText(),
    /both labelled “Weekly”/
  )
  await page.getByTestId('mapping-dirty').waitFor()
  await page.getByTestId('mapping-save').click()
  await page.getByTestId('mapping-dirty').waitFor({ state: 'detached' })
  const [saved] = await callArgs(page, 'mapping_save')
  assert.deepEqual(
    saved.draft.entries,
    [
      {
        item: { kind: 'preference', purposeId: 'newsletter', preferenceId: 'topics' },
        property: 'newsletter_topics',
        encoding: 'ids'
      },
      {
        item: { kind: 'preference', purposeId: 'newsletter', preferenceId: 'frequency' },
        property: 'email_frequency',
        encoding: 'ids'
      },
      {
        item: { kind: 'purpose', purposeId: 'marketing' },
        property: 'marketing_emails',
        encoding: 'labels'
      }
    ],
    'the draft saved in tree order; ids chosen on Topics, forced on Frequency'
  )
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('mapping: "New HubSpot property…" creates a compatible property and selects it', async () => {
  const { page, errors } = await openScreen('mapping')
  await openCombo(page, 'Newsletter › Topics › Politics')
  await page.getByRole('listbox').getByTestId('mapping-new-property').click()
  const input = row(page, 'Newsletter › Topics › Politics').getByTestId('mapping-combobox')
  await page.getByTestId('mapping-toast').filter({ hasText: 'Created' }).waitFor()
  assert.equal(await input.inputValue(), 'Newsletter › Topics › Politics', 'new property selected')
  assert.deepEqual(
    await callArgs(page, 'mapping_create_property'),
    [
      {
        item: {
          kind: 'value',
          purposeId: 'newsletter',
          preferenceId: 'topics',
          valueId: 'politics'
        }
      }
    ],
    'created for that row'
  )
  await page.getByTestId('mapping-dirty').waitFor()
  await page.screenshot({ path: join(shots, 'mapping-new-property.png') })
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('mapping: Suggest proposes, nothing applies until accepted; Accept all fills the rows', async () => {
  const { page, errors } = await openScreen('mapping')
  await page.getByTestId('mapping-suggest').click()
  const panel = page.getByTestId('mapping-suggestions')
  await panel.waitFor()
  assert.equal(
    await panel.getByTestId('mapping-suggestion').count(),
    3,
    'Topics, Sports, Analytics'
  )
  assert.equal(await page.getByTestId('mapping-dirty').count(), 0, 'nothing applied yet')
  await page.screenshot({ path: join(shots, 'mapping-suggestions.png') })

  await panel.getByTestId('mapping-suggest-accept').first().click()
  await page.getByTestId('mapping-dirty').waitFor()
  assert.equal(await panel.getByTestId('mapping-suggestion').count(), 2, 'accepted one')
  await page.getByTestId('mapping-suggest-accept-all').click()
  await panel.waitFor({ state: 'detached' })
  assert.equal(
    await row(page, 'Analytics').getByTestId('mapping-combobox').inputValue(),
    'Analytics'
  )
  assert.equal(
    await row(page, 'Newsletter › Topics › Sports').getByTestId('mapping-combobox').inputValue(),
    'Sports'
  )
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('mapping: stale entries are flagged with their reason and can be cleared; leaving with unsaved changes asks', async () => {
  const { page, errors } = await openScreen('mapping', { pmp: { stale: true } })
  await page.getByTestId('mapping-stale').first().waitFor()
  const stale = page.getByTestId('mapping-stale')
  assert.equal(await stale.count(), 2, 'one row, one removed item')
  assert.deepEqual(
    await stale.evaluateAll((els) => els.map((e) => e.getAttribute('data-reason')).sort()),
    ['DidomiItemRemoved', 'PropertyMissing']
  )
  assert.match(await row(page, 'Analytics').innerText(), /no longer exists/, 'the reason is shown')
  assert.match(await row(page, 'Analytics').getAttribute('class'), /is-stale/, 'row highlighted')
  await page.screenshot({ path: join(shots, 'mapping-stale.png'), fullPage: true })

  await row(page, 'Analytics').getByTestId('mapping-clear').click()
  assert.equal(await page.getByTestId('mapping-stale').count(), 1, 'cleared row no longer flagged')
  await page.getByTestId('mapping-dirty').waitFor()

  await page.getByTestId('nav-sync').click()
  await page.getByTestId('confirm-dialog').waitFor()
  await page.screenshot({ path: join(shots, 'mapping-leave-unsaved.png') })
  await page.getByTestId('confirm-cancel').click()
  assert.equal(await page.getByTestId('screen-mapping').count(), 1, 'stayed')
  await page.getByTestId('nav-sync').click()
  await page.getByTestId('confirm-ok').click()
  await page.getByTestId('screen-sync').waitFor()
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('mapping: rows are indented by depth at any depth (Event regions and its values too)', async () => {
  const { page, errors } = await openScreen('mapping', { pmp: { deep: true } })
  await row(page, 'Newsletter › Topics › Events › Event regions › Asia-Pacific').waitFor()
  const indent = (path) =>
    row(page, path)
      .locator('.row-label')
      .evaluate((e) => e.getBoundingClientRect().left)
  const x = [
    await indent('Newsletter'),
    await indent('Newsletter › Topics'),
    await indent('Newsletter › Topics › Events'),
    await indent('Newsletter › Topics › Events › Event regions'),
    await indent('Newsletter › Topics › Events › Event regions › Europe'),
    await indent('Newsletter › Topics › Events › Event regions › Asia-Pacific')
  ]
  for (let d = 1; d <= 4; d++) {
    assert.ok(x[d] - x[d - 1] >= 16, `depth ${d} is indented past depth ${d - 1}: ${x}`)
  }
  assert.equal(x[5], x[4], 'values of one preference line up')
  await page.screenshot({ path: join(shots, 'mapping-deep.png') })
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('mapping: the filter box narrows the rows; not connected shows the empty state', async () => {
  const { page, errors } = await openScreen('mapping')
  await page.getByTestId('mapping-filter').fill('topics')
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="mapping-row"]').length === 3
  )
  await page.close()
  const other = await h.open({})
  await other.page.getByTestId('nav-mapping').click()
  await other.page.getByTestId('mapping-empty').waitFor()
  assert.match(
    await other.page.getByTestId('mapping-empty').innerText(),
    /Connect HubSpot and Didomi/
  )
  await other.page.screenshot({ path: join(shots, 'mapping-not-connected.png') })
  assert.deepEqual([...errors, ...other.errors], [], 'no console errors')
  await other.page.close()
})

test('config: export reports the path; import previews the diff, Cancel changes nothing, Apply applies', async () => {
  const { page, errors } = await openScreen('mapping')
  await page.getByTestId('config-export').click()
  await page
    .getByTestId('mapping-toast')
    .filter({ hasText: '/home/user/didomi-hubspot-config.json' })
    .waitFor()

  await page.getByTestId('config-import').click()
  const diff = page.getByTestId('import-diff')
  await diff.waitFor()
  assert.match(
    await diff.innerText(),
    /Added \(1\)[\s\S]*Newsletter → newsletter_consent “Newsletter consent”/
  )
  assert.match(
    await diff.innerText(),
    /Changed \(1\)[\s\S]*Marketing emails → marketing_emails “Marketing emails” ⇒ sports “Sports”/
  )
  assert.match(await diff.innerText(), /upsert: false ⇒ true/)
  assert.match(await page.getByTestId('import-warning').innerText(), /portal 777/)
  const from = await page.getByTestId('import-dialog').locator('.path-line').innerText()
  const local = await page.evaluate(() =>
    new Date('2026-11-20T10:00:00.183Z').toLocaleString(undefined, {
      dateStyle: 'short',
      timeStyle: 'medium'
    })
  )
  assert.ok(from.includes(`exported ${local}`), `local date and time: ${from}`)
  assert.doesNotMatch(from, /2026-11-20T|183628785Z/, 'no raw timestamp')
  await page.screenshot({ path: join(shots, 'import-preview.png') })
  await page.getByTestId('import-cancel').click()
  await diff.waitFor({ state: 'detached' })
  assert.ok(!(await calls(page)).includes('config_import_apply'), 'cancel applies nothing')

  await page.getByTestId('config-import').click()
  await page.getByTestId('import-apply').click()
  await diff.waitFor({ state: 'detached' })
  assert.deepEqual(await callArgs(page, 'config_import_apply'), [{ token: 'sha256:abc' }])
  await page.getByTestId('mapping-toast').filter({ hasText: 'imported' }).waitFor()
  assert.equal(
    await row(page, 'Newsletter').getByTestId('mapping-combobox').inputValue(),
    'Newsletter consent',
    'the screen reloaded the imported mapping'
  )
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('config: an invalid import file shows errors with JSON path, line and column and cannot be applied', async () => {
  const { page, errors } = await openScreen('mapping', { pmp: { importFile: 'invalid' } })
  await page.getByTestId('config-import').click()
  const err = page.getByTestId('import-error')
  await err.waitFor()
  assert.match(await err.innerText(), /\$\.mapping\.entries\[1\]\.property \(line 14, column 19\)/)
  assert.equal(await page.getByTestId('import-apply').isDisabled(), true, 'apply disabled')
  await page.screenshot({ path: join(shots, 'import-invalid.png') })
  await page.getByTestId('import-cancel').click()
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})
