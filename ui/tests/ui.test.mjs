// Browser test of the built UI (ui/dist) in Debian's headless chromium with a mocked backend
// (tests/dist/mock-setup.js, see mock-setup.ts). Run with `npm run test:browser`.
// Screenshots go to $UI_SHOTS_DIR (default /tmp/ui-shots).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { shots, startHarness } from './harness.mjs'

let harness
before(async () => {
  harness = await startHarness()
})
after(async () => {
  await harness?.close()
})

/** A fresh page (fresh mock state) at the given viewport, with console errors collected. */
const open = (width = 1280, height = 800, scenario = {}) => harness.open(scenario, width, height)

const calls = (page) => page.evaluate(() => window.__mock.calls.map((c) => c.cmd))
const callArgs = (page, cmd) =>
  page.evaluate((c) => window.__mock.calls.filter((x) => x.cmd === c).map((x) => x.args), cmd)

test('every screen opens from the sidebar; Sandbox banner and simulator status show', async () => {
  const { page, errors } = await open()
  await assert.doesNotReject(page.getByTestId('sandbox-banner').waitFor(), 'banner visible')
  assert.match(
    await page.getByTestId('sandbox-banner').innerText(),
    /simulated HubSpot and Didomi, no real data/
  )
  await page.getByTestId('simulator-status').filter({ hasText: 'reachable' }).waitFor()
  assert.match(
    await page.getByTestId('simulator-status').innerText(),
    /Simulator reachable/,
    'status line'
  )
  for (const id of ['connect', 'options', 'mapping', 'sync', 'history']) {
    await page.getByTestId(`nav-${id}`).click()
    await page.getByTestId(`screen-${id}`).waitFor()
    assert.equal(
      await page.getByTestId(`nav-${id}`).getAttribute('aria-current'),
      'page',
      `${id} is marked current`
    )
    await page.screenshot({ path: join(shots, `screen-${id}.png`) })
  }
  assert.ok((await calls(page)).includes('connection_status'), 'the status line asked the backend')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('HubSpot install succeeds: waiting state, authorize link, then the account card', async () => {
  const { page, errors } = await open()
  assert.equal(
    await page.getByTestId('hubspot-client-id').inputValue(),
    'sandbox-client-id',
    'client id prefilled'
  )
  assert.equal(
    await page.getByTestId('hubspot-client-secret').getAttribute('placeholder'),
    'prefilled (sandbox)',
    'secret shown as prefilled, not sent'
  )
  assert.equal(await page.getByTestId('redirect-uri').count(), 3, 'one entry per redirect URL')
  assert.equal(
    await page.getByTestId('redirect-uri').first().innerText(),
    'http://localhost:53134/oauth/callback'
  )
  assert.equal(
    await page.getByTestId('redirect-uri-copy').count(),
    3,
    'a copy button per redirect URL'
  )
  await page.screenshot({ path: join(shots, 'connect-initial.png') })

  await page.getByTestId('hubspot-install').click()
  await page.getByText('Waiting for you to approve in the browser…').waitFor()
  const link = page.getByTestId('hubspot-authorize-url')
  assert.match(
    await link.getAttribute('href'),
    /^http:\/\/127\.0\.0\.1:41001\/oauth\/authorize\?client_id=sandbox-client-id/,
    'authorize link shown'
  )
  assert.match(
    await page.getByTestId('hubspot-paste-time-left').innerText(),
    /^(59:5\d|1:00:00)$/,
    'an hour to paste'
  )
  await page.screenshot({ path: join(shots, 'connect-waiting.png') })
  assert.deepEqual(
    await callArgs(page, 'hubspot_install_start'),
    [{ clientId: 'sandbox-client-id', clientSecret: null }],
    'empty secret is sent as null so the core uses the prefill'
  )

  await page.evaluate(() => window.__mock.approve())
  const card = page.getByTestId('hubspot-account')
  await card.waitFor()
  const text = await card.innerText()
  assert.match(text, /4242/, 'portal id')
  assert.match(text, /sandbox-portal\.hubspot\.com/, 'domain')
  assert.match(text, /admin@example\.com/, 'user')
  assert.match(text, /crm\.schemas\.contacts\.write\s*\(missing\)/, 'missing scope flagged')
  assert.deepEqual(
    (await calls(page)).filter((c) => c.startsWith('hubspot_install')),
    ['hubspot_install_start', 'hubspot_install_wait'],
    'start, then wait'
  )
  await page.screenshot({ path: join(shots, 'connect-hubspot-connected.png') })

  // Disconnect asks first, then calls the backend.
  await page.getByTestId('hubspot-disconnect').click()
  await page.getByTestId('confirm-dialog').waitFor()
  await page.screenshot({ path: join(shots, 'connect-confirm-disconnect.png') })
  await page.getByTestId('confirm-ok').click()
  await page.getByTestId('hubspot-install').waitFor()
  assert.ok((await calls(page)).includes('hubspot_disconnect'), 'disconnect called after confirm')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('HubSpot install when the browser cannot be opened: says so at once, link and paste field shown', async () => {
  const { page, errors } = await open(1280, 800, { noBrowser: true })
  await page.getByTestId('hubspot-install').click()
  const failed = page.getByTestId('hubspot-browser-failed')
  await failed.waitFor()
  assert.match(await failed.innerText(), /could not be opened.*paste the redirect URL/s)
  assert.equal(
    await page.getByText('Waiting for you to approve in the browser…').count(),
    0,
    'no promise of a browser that never opened'
  )
  assert.ok(await page.getByTestId('hubspot-authorize-url-text').isVisible(), 'link to copy')
  assert.ok(await page.getByTestId('hubspot-paste-input').isVisible(), 'paste field')
  await page.screenshot({ path: join(shots, 'connect-no-browser.png') })
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('HubSpot install denied shows the error with its code; paste then connects', async () => {
  const { page, errors } = await open()
  await page.getByTestId('hubspot-install').click()
  await page.getByTestId('hubspot-authorize-url').waitFor()
  await page.evaluate(() => window.__mock.deny())
  const alert = page.getByTestId('error')
  await alert.waitFor()
  assert.equal(await alert.getAttribute('data-code'), 'HubSpotOAuthDenied', 'code in data-code')
  assert.equal(await alert.getAttribute('role'), 'alert', 'announced to screen readers')
  assert.match(await alert.innerText(), /You declined the install/, 'the backend message is shown')
  await page.screenshot({ path: join(shots, 'connect-denied.png') })

  // The install is over: the form is back. A new install can be finished by pasting.
  await page.getByTestId('hubspot-install').click()
  await page.getByTestId('hubspot-paste-input').waitFor()
  assert.equal(await page.getByTestId('error').count(), 0, 'a new attempt clears the old error')
  // A bad paste is an error too; a good one connects.
  await page.getByTestId('hubspot-paste-input').fill('not a url')
  await page.getByTestId('hubspot-paste-submit').click()
  await page.locator('[data-testid="error"][data-code="HubSpotCodeInvalid"]').waitFor()
  const pasted = 'http://localhost:53134/oauth/callback?code=abc123&state=abc'
  await page.getByTestId('hubspot-paste-input').fill(pasted)
  await page.getByTestId('hubspot-paste-submit').click()
  await page.getByTestId('hubspot-account').waitFor()
  assert.equal(await page.getByTestId('error').count(), 0, 'success clears the error')
  assert.deepEqual(
    await callArgs(page, 'hubspot_install_paste'),
    [{ redirectUrlOrCode: 'not a url' }, { redirectUrlOrCode: pasted }],
    'pasted text sent as is'
  )
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('cancel returns to the form; private token connects', async () => {
  const { page } = await open()
  await page.getByTestId('hubspot-install').click()
  await page.getByTestId('hubspot-cancel').click()
  await page.getByTestId('hubspot-install').waitFor()
  assert.ok((await calls(page)).includes('hubspot_install_cancel'), 'cancel reaches the backend')
  await page.getByTestId('hubspot-private-token-submit').click()
  await page.getByTestId('hubspot-account').waitFor()
  assert.deepEqual(
    await callArgs(page, 'hubspot_connect_private_token'),
    [{ token: '' }],
    'empty token = sandbox prefill'
  )
  await page.close()
})

test('Didomi connects and disconnects', async () => {
  const { page, errors } = await open()
  assert.equal(
    await page.getByTestId('didomi-api-key').inputValue(),
    'sandbox-key',
    'key prefilled'
  )
  assert.equal(await page.getByTestId('didomi-org-id').inputValue(), 'sandbox-org', 'org prefilled')
  await page.getByTestId('didomi-api-secret').fill('typed-secret')
  await page.getByTestId('didomi-connect').click()
  const card = page.getByTestId('didomi-account')
  await card.waitFor()
  const didomiText = await card.innerText()
  assert.match(didomiText, /Organization id\s*sandbox-org/, 'org id')
  assert.match(didomiText, /Purposes in the library\s*4/, 'number of purposes read')
  assert.match(didomiText, /Preferences in the library\s*7/, 'number of preferences read')
  assert.match(
    await page.getByTestId('didomi-tree').innerText(),
    /3 purposes, 5 preferences — what your consent notices ask.*The Mapping screen lists these/s,
    'the tree count says how it differs from the library count'
  )
  assert.deepEqual(
    await callArgs(page, 'didomi_connect'),
    [{ apiKey: 'sandbox-key', apiSecret: 'typed-secret', organizationId: 'sandbox-org' }],
    'form values sent'
  )
  await page.screenshot({ path: join(shots, 'connect-didomi-connected.png') })
  await page.getByTestId('didomi-disconnect').click()
  await page.getByTestId('confirm-ok').click()
  await page.getByTestId('didomi-connect').waitFor()
  assert.ok((await calls(page)).includes('didomi_disconnect'), 'disconnect called')
  assert.equal(
    await page.getByTestId('didomi-api-secret').inputValue(),
    '',
    'the secret is not kept in the form'
  )
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('the Connect screen fits 1024×700 without horizontal scrolling', async () => {
  const { page } = await open(1024, 700)
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth
  )
  assert.ok(overflow <= 0, `no horizontal overflow (got ${overflow}px)`)
  await page.screenshot({ path: join(shots, 'connect-1024x700.png') })
  await page.close()
})

test('a Didomi error shows its code and message and keeps the form', async () => {
  const { page } = await open()
  await page.getByTestId('didomi-api-secret').fill('wrong')
  await page.getByTestId('didomi-connect').click()
  const alert = page.locator('[data-testid="error"][data-code="DidomiBadCredentials"]')
  await alert.waitFor()
  assert.match(await alert.innerText(), /Copy both again/, 'what to do is shown')
  assert.equal(await page.getByTestId('didomi-account').count(), 0, 'still not connected')
  await page.close()
})

test('Live mode: no banner, keychain problem and startup warning shown, switch to Sandbox asks then restarts', async () => {
  const { page } = await open(1280, 800, { mode: 'Live', keychainDown: true })
  await page.getByTestId('keychain-unavailable').waitFor()
  assert.equal(await page.getByTestId('sandbox-banner').count(), 0, 'no Sandbox banner in Live')
  assert.match(
    await page.getByTestId('keychain-unavailable').innerText(),
    /Secure storage unavailable\. No keychain \(Secret Service\).*restart the app\. Secrets are never written to a file/,
    'what to do and the consequence shown'
  )
  assert.match(await page.getByTestId('startup-warning').innerText(), /moved aside/, 'warning')
  assert.match(await page.getByTestId('api-status').innerText(), /HubSpot API not reachable/)
  assert.equal(await page.getByTestId('hubspot-client-id').inputValue(), '', 'no prefill in Live')
  assert.equal(
    await page.getByTestId('hubspot-private-token-submit').isDisabled(),
    true,
    'an empty token cannot be sent in Live'
  )
  await page.screenshot({ path: join(shots, 'live-keychain-unavailable.png') })
  await page.getByTestId('switch-to-sandbox').click()
  await page.getByTestId('confirm-ok').click()
  await page.waitForFunction(() => window.__mock.calls.some((c) => c.cmd === 'switch_mode'))
  assert.deepEqual(await callArgs(page, 'switch_mode'), [{ mode: 'Sandbox' }], 'mode sent')
  await page.close()
})

test('keyboard only: Tab reaches the navigation and Enter opens a screen', async () => {
  const { page } = await open()
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))
  let seen = null
  for (let i = 0; i < 10 && seen !== 'nav-mapping'; i++) {
    await page.keyboard.press('Tab')
    seen = await focused()
  }
  assert.equal(seen, 'nav-mapping', 'the nav buttons are in the tab order')
  await page.keyboard.press('Enter')
  await page.getByTestId('screen-mapping').waitFor()
  assert.equal(
    await page.getByTestId('nav-mapping').getAttribute('aria-current'),
    'page',
    'Enter activates it'
  )
  await page.close()
})
