// Browser test of the Workflow screen (ui/dist in headless chromium, mocked backend:
// tests/mock-setup.ts + tests/mock-workflow.ts): steps with deep links and saved ticks, the
// mapped properties as the only triggers, settings, "Check" verdicts, the Sandbox switch, and
// errors shown without losing what was on screen.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { callArgs, calls, shots, startHarness } from './harness.mjs'

let harness
before(async () => {
  harness = await startHarness()
})
after(async () => {
  await harness?.close()
})

async function openWorkflow(scenario) {
  const opened = await harness.open({ connected: true, mapped: 3, ...scenario })
  await opened.page.getByTestId('nav-workflow').click()
  await opened.page.getByTestId('screen-workflow').waitFor()
  await opened.page.getByTestId('workflow-steps').waitFor()
  return opened
}

test('eleven steps with deep links into the portal; ticks are saved and survive a reload', async () => {
  const { page, errors } = await openWorkflow({})
  assert.equal(
    await page.locator('[data-testid^="workflow-step-check-"]').count(),
    11,
    'eleven steps'
  )
  const link = page.getByTestId('workflow-step-link-2')
  assert.equal(
    await link.getAttribute('href'),
    'https://app-eu1.hubspot.com/workflows/4242',
    'the workflows page of the connected portal on its UI domain'
  )
  await page.getByTestId('workflow-step-check-1').click()
  await page.getByTestId('workflow-step-check-3').click()
  await page.getByText('2 of 11 steps done.').waitFor()
  const saves = await callArgs(page, 'pull_settings_save')
  assert.deepEqual(saves.at(-1).settings.checkedSteps, [1, 3], 'ticks saved as step numbers')
  await page.screenshot({ path: join(shots, 'workflow-steps.png'), fullPage: true })
  // Leave and come back: the guide is read again from the backend with the ticks.
  await page.getByTestId('nav-sync').click()
  await page.getByTestId('nav-workflow').click()
  await page.getByText('2 of 11 steps done.').waitFor()
  assert.equal(
    await page.getByTestId('workflow-step-check-3').locator('input').isChecked(),
    true,
    'tick kept'
  )
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('only mapped properties are offered as triggers, with a warning about any other', async () => {
  const { page } = await openWorkflow({})
  const triggers = page.getByTestId('workflow-triggers')
  for (const p of ['didomi_newsletter', 'didomi_topics', 'didomi_sms']) {
    assert.match(await triggers.innerText(), new RegExp(p), `${p} listed`)
  }
  assert.match(
    await page.getByTestId('workflow-trigger-warning').innerText(),
    /must not be a trigger/,
    'warns about other properties'
  )
  await page.close()
  const empty = await openWorkflow({ workflow: { mapped: [] } })
  await empty.page.getByTestId('workflow-no-mapping').waitFor()
  await empty.page.close()
})

test('Check tells what works and what is missing', async () => {
  const { page } = await openWorkflow({})
  const check = page.getByTestId('workflow-check')
  assert.equal(await check.isDisabled(), true, 'no email, no check')
  const cases = [
    ['works@example.com', 'works', /rose to 3/],
    ['nobody@example.com', 'contactMissing', /No HubSpot contact/],
    ['noedit@example.com', 'noEdit', /was changed yet/],
    ['other@example.com', 'noChangeSeen', /did not rise/]
  ]
  for (const [email, status, text] of cases) {
    await page.getByTestId('workflow-check-email').fill(email)
    await check.click()
    const result = page.getByTestId('workflow-check-result')
    await page.locator(`[data-testid="workflow-check-result"][data-status="${status}"]`).waitFor()
    assert.match(await result.innerText(), text, `${email}: the message says why`)
  }
  assert.deepEqual(
    (await callArgs(page, 'workflow_check')).map((a) => a.email),
    cases.map((c) => c[0]),
    'each check sent the email'
  )
  await page.screenshot({ path: join(shots, 'workflow-check.png'), fullPage: true })
  await page.close()
})

test('settings: HubSpot may win conflicts, forwarding can be turned on; a failed save rolls back', async () => {
  const { page } = await openWorkflow({})
  await page.getByTestId('workflow-winner-hubspot').click()
  await page.getByTestId('workflow-forward').click()
  const saves = await callArgs(page, 'pull_settings_save')
  assert.equal(saves.at(-1).settings.conflictWinner, 'hubSpot', 'winner saved')
  assert.equal(saves.at(-1).settings.forwardToIntegrations, true, 'forwarding saved')
  await page.close()
  const failing = await openWorkflow({ workflow: { saveFails: true } })
  await failing.page.getByTestId('workflow-step-check-5').click()
  const err = failing.page.getByTestId('error')
  await err.waitFor()
  assert.equal(await err.getAttribute('data-code'), 'SyncStateUnavailable', 'the code is shown')
  assert.equal(
    await failing.page.getByTestId('workflow-step-check-5').locator('input').isChecked(),
    false,
    'the tick is rolled back'
  )
  await failing.page.getByTestId('workflow-steps').waitFor()
  await failing.page.close()
})

test('Sandbox: the simulated workflow switch; Live: no switch; bidirectional off links to Options', async () => {
  const { page } = await openWorkflow({})
  await page.getByTestId('workflow-simulate').click()
  await page.getByTestId('workflow-simulate-status').waitFor()
  assert.match(await page.getByTestId('workflow-simulate-status').innerText(), /On: triggers/, 'on')
  assert.deepEqual(await callArgs(page, 'workflow_simulate'), [{ enabled: true }], 'enabled sent')
  assert.equal(
    await page.getByTestId('workflow-sim-portal').getAttribute('href'),
    'http://127.0.0.1:41001/_sim/hubspot/portal',
    'link to the simulator portal page'
  )
  await page.close()
  const live = await openWorkflow({ mode: 'Live' })
  assert.equal(await live.page.getByTestId('workflow-simulate').count(), 0, 'no switch in Live')
  await live.page.close()
  const off = await openWorkflow({ workflow: { bidirectionalOff: true } })
  await off.page.getByTestId('workflow-bidi-off').waitFor()
  await off.page.getByTestId('workflow-go-options').click()
  await off.page.getByTestId('screen-options').waitFor()
  assert.ok(!(await calls(off.page)).includes('workflow_simulate'), 'nothing simulated')
  await off.page.close()
})

test('keyboard: steps can be ticked with the keyboard', async () => {
  const { page } = await openWorkflow({})
  await page.getByTestId('workflow-step-check-2').locator('input').focus()
  await page.keyboard.press('Space')
  await page.getByText('1 of 11 steps done.').waitFor()
  await page.close()
})

test('Sync screen: Pull and Push then pull, with conflicts listed and a link to History', async () => {
  const off = await harness.open({ connected: true, mapped: 3 })
  await off.page.getByTestId('nav-sync').click()
  await off.page.getByTestId('sync-pull-panel').waitFor()
  assert.equal(await off.page.getByTestId('sync-pull').isDisabled(), true, 'off: no pull')
  assert.equal(await off.page.getByTestId('sync-both').isDisabled(), true, 'off: no push+pull')
  assert.match(
    await off.page.getByTestId('sync-pull-panel').innerText(),
    /Turn on the bidirectional/,
    'says why'
  )
  await off.page.close()

  const { page, errors } = await harness.open({
    connected: true,
    mapped: 3,
    workflow: { bidirectional: true }
  })
  await page.getByTestId('nav-sync').click()
  const pull = page.getByTestId('sync-pull')
  await page.waitForFunction(() => !document.querySelector('[data-testid="sync-pull"]').disabled)
  await page.getByTestId('sync-pull-dry-run').click()
  await page.getByTestId('sync-pull-plan').waitFor()
  assert.match(await page.getByTestId('sync-pull-plan').innerText(), /Would write 2/, 'the plan')
  await pull.click()
  await page.getByTestId('sync-pull-counts').waitFor()
  const result = page.getByTestId('sync-pull-result')
  assert.match(
    await result.locator('header h2').innerText(),
    /^Pull finished\s+\w+/,
    'the pull result is a titled card with its status, like the push result'
  )
  assert.equal(await result.evaluate((e) => e.matches('section.card')), true, 'a card')
  const conflicts = page.getByTestId('sync-pull-conflicts')
  assert.match(await conflicts.innerText(), /ada@example\.com/, 'the conflict is listed')
  assert.match(await conflicts.innerText(), /didomi_topics/, 'with its property')
  await page.screenshot({ path: join(shots, 'sync-pull-result.png'), fullPage: true })
  await page.getByTestId('sync-both').click()
  await page.getByTestId('sync-both-push').waitFor()
  assert.deepEqual(
    (await callArgs(page, 'pull_run')).map((a) => a.dryRun),
    [true, false],
    'dry run then pull'
  )
  assert.equal(
    (await callArgs(page, 'push_then_pull'))[0].onProgress,
    'channel',
    'progress channel'
  )
  await page.getByTestId('sync-pull-open-history').click()
  await page.getByTestId('screen-history').waitFor()
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})
