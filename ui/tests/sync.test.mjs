// Browser test of the Sync and History screens (ui/dist in headless chromium, mocked backend:
// tests/mock-setup.ts + tests/mock-sync.ts). Progress is streamed by calling the command's
// Channel `onmessage` from the mock, as Rust's `Channel::send` does.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { AUTO_RUN_GOING, callArgs, calls, shots, startHarness } from './harness.mjs'

let harness
before(async () => {
  harness = await startHarness()
})
after(async () => {
  await harness?.close()
})

const READY = { connected: true, mapped: 3 }

async function openSync(scenario) {
  const opened = await harness.open(scenario)
  await opened.page.getByTestId('nav-sync').click()
  await opened.page.getByTestId('screen-sync').waitFor()
  return opened
}

const attr = (page, id, name) => page.getByTestId(id).getAttribute(name)

test('not connected: the reason is shown, buttons are disabled, the link opens Connect', async () => {
  const { page, errors } = await openSync({})
  const blocked = page.getByTestId('sync-blocked')
  await blocked.waitFor()
  assert.equal(await blocked.getAttribute('data-code'), 'HubSpotNotConnected', 'HubSpot first')
  assert.match(await blocked.innerText(), /HubSpot is not connected/, 'says what is wrong')
  assert.equal(await page.getByTestId('sync-dry-run').isDisabled(), true, 'no dry run')
  assert.equal(await page.getByTestId('sync-push').isDisabled(), true, 'no push')
  await page.screenshot({ path: join(shots, 'sync-blocked-not-connected.png') })
  await page.getByTestId('sync-blocked-fix').click()
  await page.getByTestId('screen-connect').waitFor()
  assert.ok(!(await calls(page)).includes('push_run'), 'nothing was started')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('empty mapping: blocked with a link to Mapping', async () => {
  const { page } = await openSync({ connected: true, mapped: 0 })
  const blocked = page.getByTestId('sync-blocked')
  await blocked.waitFor()
  assert.equal(await blocked.getAttribute('data-code'), 'MappingEmpty', 'mapping is the problem')
  assert.match(await blocked.innerText(), /Nothing is mapped yet/, 'says what is wrong')
  await page.screenshot({ path: join(shots, 'sync-blocked-mapping-empty.png') })
  await page.getByTestId('sync-blocked-fix').click()
  await page.getByTestId('screen-mapping').waitFor()
  await page.close()
})

test('a stale mapping found by the check before any run: named, buttons disabled, link to Mapping', async () => {
  const stale = {
    code: 'MappingStale',
    message:
      'The sync cannot run: 1 mapping(s) no longer hold. Fix them on the Mapping screen. HubSpot property didomi_old_topics was deleted.'
  }
  const { page } = await openSync({ ...READY, sync: { check: stale } })
  const blocked = page.getByTestId('sync-blocked')
  await blocked.waitFor()
  assert.equal(await blocked.getAttribute('data-code'), 'MappingStale', 'the core code is kept')
  assert.match(await blocked.innerText(), /didomi_old_topics was deleted/, 'the entry is named')
  assert.equal(await page.getByTestId('sync-dry-run').isDisabled(), true, 'no dry run')
  assert.equal(await page.getByTestId('sync-push').isDisabled(), true, 'no push')
  assert.ok(!(await calls(page)).includes('push_run'), 'nothing was started')
  await page.screenshot({ path: join(shots, 'sync-blocked-stale-check.png') })
  await page.close()
})

test('the core refuses a stale mapping: its message (naming the entries) and a link to Mapping', async () => {
  const refusal = {
    code: 'MappingStale',
    message:
      'The mapping refers to things that no longer exist: HubSpot property didomi_old_topics. Open Mapping and fix or remove these rows.'
  }
  const { page } = await openSync({ ...READY, sync: { refuse: refusal } })
  assert.equal(await page.getByTestId('sync-blocked').count(), 0, 'nothing known before asking')
  await page.getByTestId('sync-dry-run').click()
  const blocked = page.getByTestId('sync-blocked')
  await blocked.waitFor()
  assert.equal(await blocked.getAttribute('data-code'), 'MappingStale', 'the core code is kept')
  assert.match(await blocked.innerText(), /didomi_old_topics/, 'the stale entry is named')
  assert.equal(await page.getByTestId('error').count(), 0, 'shown as blocked, not as a crash')
  assert.equal(await page.getByTestId('sync-dry-run').isDisabled(), false, 'can retry after fixing')
  await page.screenshot({ path: join(shots, 'sync-blocked-mapping-stale.png') })
  await page.getByTestId('sync-blocked-fix').click()
  await page.getByTestId('screen-mapping').waitFor()
  await page.close()
})

test('a run started before a reload: the error says so and the run can be stopped from here', async () => {
  const refusal = {
    code: 'SyncAlreadyRunning',
    message: 'A sync is already running: wait for it to finish or cancel it, then start again.'
  }
  const { page } = await openSync({ ...READY, sync: { refuse: refusal } })
  await page.getByTestId('sync-push').click()
  const alert = page.locator('[data-testid="error"][data-code="SyncAlreadyRunning"]')
  await alert.waitFor()
  assert.match(await alert.innerText(), /already running/, 'the core message is shown')
  assert.equal(await page.getByTestId('sync-blocked').count(), 0, 'not a setup problem')
  await page.getByTestId('sync-cancel-other').click()
  await page.waitForFunction(() => window.__mock.calls.some((c) => c.cmd === 'run_cancel'))
  assert.equal(await page.getByTestId('error').count(), 0, 'the alert is dismissed')
  await page.close()
})

test('dry run: the plan with counts, samples and the property changes of a sample contact', async () => {
  const { page, errors } = await openSync(READY)
  await page.getByTestId('sync-full').check()
  await page.getByTestId('sync-dry-run').click()
  const plan = page.getByTestId('dry-run-plan')
  await plan.waitFor()
  assert.deepEqual(
    await callArgs(page, 'push_run'),
    [{ request: { direction: 'Push', dryRun: true, full: true }, onProgress: 'channel' }],
    'a full dry run, progress through a Channel'
  )
  const counts = {}
  for (const k of ['to-create', 'to-update', 'unchanged', 'skipped', 'invalid']) {
    counts[k] = await plan.getAttribute(`data-${k}`)
  }
  assert.deepEqual(
    counts,
    { 'to-create': '40', 'to-update': '1260', unchanged: '1100', skipped: '30', invalid: '5' },
    'the counts of the plan'
  )
  const text = await plan.innerText()
  assert.match(text, /1,260/, 'counts formatted')
  assert.match(text, /anna@example\.com/, 'a sample to update')
  assert.match(text, /\(no email\) — no email/, 'an invalid sample with its reason')
  assert.match(text, /upsert is off/, 'skips explained by the upsert option')
  assert.match(
    text,
    /flip@example\.com: user user-newer \(changed 2026-11-02T10:00:00Z\) wins over user-older/,
    'a duplicate names the user that won and why'
  )
  const change = page.getByTestId('dry-run-sample-change')
  assert.match(await change.innerText(), /didomi_newsletter\s+false\s+→\s+true/, 'before → after')
  assert.match(await change.innerText(), /didomi_topics\s+\(empty\)\s+→\s+sports;news/, 'empty')
  assert.equal(await page.getByTestId('sync-status').innerText(), 'Succeeded', 'final status')
  await page.screenshot({ path: join(shots, 'sync-dry-run-plan.png') })
  await plan.screenshot({ path: join(shots, 'sync-dry-run-plan-detail.png') })
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('push: streamed progress, final result, link to its History entry', async () => {
  const { page, errors } = await openSync(READY)
  await page.getByTestId('sync-push').click()
  const bar = page.getByTestId('sync-progress')
  await bar.waitFor()
  assert.equal(await page.getByTestId('sync-push').isDisabled(), true, 'one run at a time')
  assert.equal(await page.getByTestId('sync-dry-run').isDisabled(), true, 'one run at a time')
  await page.screenshot({ path: join(shots, 'sync-starting.png') })

  // The first pass lists every Didomi user to find the emails several users share.
  await page.evaluate(() => window.__sync.emit({ phase: 'scanning', read: 1200, elapsedMs: 900 }))
  await page.waitForFunction(
    () => document.querySelector('[data-testid="sync-progress"]')?.dataset.phase === 'scanning'
  )
  const scanning = await bar.innerText()
  assert.match(scanning, /Listing Didomi users/, 'the scan is named in words')
  assert.doesNotMatch(scanning, /scanning/, 'not the internal phase name')

  await page.evaluate(() =>
    window.__sync.emit({
      phase: 'writing',
      read: 2437,
      toWrite: 1300,
      written: 400,
      created: 20,
      updated: 380,
      unchanged: 1100,
      skipped: 30,
      invalid: 5,
      failed: 3,
      ratePerS: 152.4,
      etaSeconds: 58,
      elapsedMs: 4200
    })
  )
  await page.waitForFunction(
    () => document.querySelector('[data-testid="sync-progress"]')?.dataset.written === '400'
  )
  assert.equal(await attr(page, 'sync-progress', 'data-to-write'), '1300', 'to write')
  const text = await bar.innerText()
  assert.match(text, /Writing to HubSpot/, 'phase')
  assert.match(text, /31%/, '(400 + 3) / 1300')
  assert.match(text, /2,437\s*read/, 'read')
  assert.match(text, /152\/s/, 'rate')
  assert.match(text, /58 s left/, 'time left')
  assert.match(text, /3\s*failed/, 'failed')
  assert.equal(
    await page.getByRole('progressbar').getAttribute('aria-valuenow'),
    '31',
    'the bar is an accessible progressbar'
  )
  await page.screenshot({ path: join(shots, 'sync-running.png') })

  // Switching screens keeps the run; coming back shows it still going.
  await page.getByTestId('nav-history').click()
  await page.getByTestId('screen-history').waitFor()
  await page.getByTestId('nav-sync').click()
  assert.equal(await attr(page, 'sync-progress', 'data-written'), '400', 'progress kept')

  await page.evaluate(() => {
    window.__sync.emit({ written: 1297, failed: 3, etaSeconds: 0, elapsedMs: 9000 })
    window.__sync.finish('Partial', '3 records were refused by HubSpot.')
  })
  const status = page.getByTestId('sync-status')
  await status.waitFor()
  assert.equal(await status.innerText(), 'Partial', 'final status')
  assert.equal(await page.getByTestId('sync-progress').count(), 0, 'the bar is gone')
  const result = await page.getByTestId('sync-result-counts').innerText()
  assert.match(result, /Written\s*1,297/, 'written count')
  assert.match(result, /Failed\s*3/, 'failed count')
  await page.screenshot({ path: join(shots, 'sync-result-partial.png') })

  await page.getByTestId('sync-open-history').click()
  await page.getByTestId('screen-history').waitFor()
  const row = page.locator('[data-testid="history-run"][aria-selected="true"]')
  await row.waitFor()
  assert.equal(await row.getAttribute('data-run-id'), '4', 'the run just made is selected')
  assert.equal(await row.getAttribute('data-status'), 'Partial', 'with its status')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('cancel: stops the run, the result says Cancelled with the counts reached', async () => {
  const { page } = await openSync(READY)
  await page.getByTestId('sync-push').click()
  await page.getByTestId('sync-progress').waitFor()
  await page.evaluate(() =>
    window.__sync.emit({ read: 2437, toWrite: 1300, written: 200, created: 10, ratePerS: 80 })
  )
  await page.waitForFunction(
    () => document.querySelector('[data-testid="sync-progress"]')?.dataset.written === '200'
  )
  await page.getByTestId('sync-cancel').click()
  const status = page.getByTestId('sync-status')
  await status.waitFor()
  assert.ok((await calls(page)).includes('run_cancel'), 'cancel reached the backend')
  assert.equal(await status.innerText(), 'Cancelled', 'status Cancelled')
  assert.match(
    await page.getByTestId('sync-result-counts').innerText(),
    /Written\s*200/,
    'the counts reached before the stop'
  )
  assert.equal(await page.getByTestId('sync-cancel').count(), 0, 'no cancel once stopped')
  assert.equal(await page.getByTestId('sync-push').isDisabled(), false, 'a new run can start')
  await page.screenshot({ path: join(shots, 'sync-cancelled.png') })
  await page.close()
})

test("history: runs table in the Sync card's words, chart of pushes, records not written with paging, CSV export", async () => {
  const { page, errors } = await harness.open(READY)
  await page.getByTestId('nav-history').click()
  await page.getByTestId('screen-history').waitFor()
  const rows = page.getByTestId('history-run')
  await rows.first().waitFor()
  assert.equal(await rows.count(), 3, 'one row per run')
  assert.deepEqual(
    await rows.evaluateAll((els) => els.map((e) => [e.dataset.runId, e.dataset.status])),
    [
      ['3', 'Partial'],
      ['2', 'Succeeded'],
      ['1', 'Succeeded']
    ],
    'newest first, with status'
  )
  assert.match(await rows.first().innerText(), /Incremental \(auto-sync\)/, 'auto run marked')
  assert.doesNotMatch(await rows.nth(2).innerText(), /auto-sync/, 'a manual run is not')
  assert.match(await rows.nth(1).innerText(), /Dry run \(full\)/, 'mode of a dry run')
  assert.match(await rows.nth(0).innerText(), /1 min 12 s/, 'duration')
  // The same outcome words as the run detail (RunCounts) and the Sync card.
  const headers = await page
    .locator('.runs-table thead th[data-count]')
    .evaluateAll((els) => els.map((e) => [e.dataset.count, e.textContent]))
  assert.deepEqual(
    headers,
    [
      ['read', 'Read'],
      ['written', 'Written'],
      ['skipped', 'Skipped (no contact)'],
      ['invalid', 'Invalid'],
      ['duplicates', 'Duplicates'],
      ['failed', 'Failed']
    ],
    'History names each outcome as the Sync card does'
  )
  assert.deepEqual(
    await rows
      .first()
      .locator('td[data-count]')
      .evaluateAll((els) => els.map((e) => e.textContent)),
    ['30', '5', '2', '120'],
    'skipped, invalid and duplicates are not lumped together'
  )
  const detailLabels = await page
    .locator('.run-detail dl.counts dt')
    .evaluateAll((els) => els.map((e) => e.textContent))
  for (const [, label] of headers) {
    assert.ok(detailLabels.includes(label), `the run detail says ${label} too`)
  }
  assert.equal(await attr(page, 'history-chart', 'data-bars'), '2', 'dry runs are not charted')
  assert.equal(
    await page.locator('[data-testid="history-chart"] rect.bar-failed').count(),
    2,
    'a failed bar per push'
  )

  // The newest run is selected: the first page of its records not written.
  const records = page.getByTestId('history-records')
  await records.waitFor()
  assert.equal(await records.locator('tbody tr').count(), 50, 'a page of 50')
  const first = await records.locator('tbody tr').first().innerText()
  assert.match(first, /person0@example\.com/, 'email')
  assert.match(first, /VALIDATION_ERROR/, 'HubSpot error category')
  assert.match(first, /0b6f3d2e-0000-4000-8000-000000000000/, 'correlation id')
  assert.match(first, /not one of the allowed options/, 'message')
  assert.match(first, /failed/, 'outcome')
  await page.screenshot({ path: join(shots, 'history.png') })
  await records.screenshot({ path: join(shots, 'history-records.png') })
  await page.getByTestId('history-records-next').click()
  await page.getByTestId('history-records-page').filter({ hasText: 'Page 2' }).waitFor()
  await page.getByTestId('history-records-next').click()
  await page.getByTestId('history-records-page').filter({ hasText: 'Page 3' }).waitFor()
  assert.equal(await records.locator('tbody tr').count(), 50, 'third page')
  assert.match(await records.locator('tbody tr').last().innerText(), /nocontact29@example\.com/)
  await page.getByTestId('history-records-next').click()
  await page.getByTestId('history-records-page').filter({ hasText: 'Page 4' }).waitFor()
  assert.deepEqual(
    await records
      .locator('tbody tr')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome'))),
    ['invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'duplicate', 'duplicate'],
    'invalid and duplicate records are listed with their own outcome'
  )
  assert.match(await records.locator('tbody tr').first().innerText(), /not-an-email-0\s+invalid/)
  assert.equal(await page.getByTestId('history-records-next').isDisabled(), true, 'last page')
  assert.deepEqual(
    (await callArgs(page, 'history_records')).map((a) => a.offset),
    [0, 50, 100, 150],
    'pages asked by offset'
  )
  await page.screenshot({ path: join(shots, 'history-page-3.png') })

  assert.match(
    await page.getByTestId('history-export-csv').innerText(),
    /Export records not written as CSV \(157\)/,
    'the button counts every record not written, not only failures'
  )
  await page.getByTestId('history-export-csv').click()
  const done = page.getByTestId('history-export-done')
  await done.waitFor()
  assert.match(
    await done.innerText(),
    /Saved 157 rows to \/tmp\/dhs-dialog\/run-3-not-written\.csv/
  )
  assert.deepEqual(await callArgs(page, 'history_export_records_csv'), [{ runId: 3 }], 'run id')
  assert.equal(
    await done.evaluate((e) => e.classList.contains('alert-ok')),
    true,
    'a saved file is a success, not a warning'
  )

  // A run where every record was written: nothing to export.
  await rows.nth(2).click()
  await page.getByTestId('history-records-empty').waitFor()
  assert.match(await page.getByTestId('history-export-csv').innerText(), /\(0\)/, 'none')
  assert.equal(await page.getByTestId('history-export-csv').isDisabled(), true, 'nothing to save')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('history is empty before the first run', async () => {
  const { page } = await harness.open({ ...READY, sync: { emptyHistory: true } })
  await page.getByTestId('nav-history').click()
  await page.getByTestId('history-empty').waitFor()
  await page.screenshot({ path: join(shots, 'history-empty.png') })
  await page.close()
})

test('Sync and History fit 1024×700 without horizontal scrolling', async () => {
  const { page } = await harness.open(READY, 1024, 700)
  for (const id of ['sync', 'history']) {
    await page.getByTestId(`nav-${id}`).click()
    await page.getByTestId(`screen-${id}`).waitFor()
    if (id === 'sync') {
      await page.getByTestId('sync-dry-run').click()
      await page.getByTestId('dry-run-plan').waitFor()
    } else {
      // The dry run just made is selected: a run with no failures.
      await page.getByTestId('history-records-empty').waitFor()
      await page.getByTestId('history-run').nth(1).click()
      await page.getByTestId('history-records').waitFor()
    }
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth
    )
    assert.ok(overflow <= 0, `${id}: no horizontal overflow (got ${overflow}px)`)
    await page.screenshot({ path: join(shots, `${id}-1024x700.png`) })
  }
  await page.close()
})

test('auto-sync: off by default, a bad interval is named, on every 15 min, progress, last run', async () => {
  const { page, errors } = await openSync(READY)
  const card = page.getByTestId('auto-sync')
  await card.waitFor()
  assert.equal(await page.getByTestId('auto-sync-on').isChecked(), false, 'off by default')
  assert.equal(await page.getByTestId('auto-sync-schedule').innerText(), 'Off')
  assert.equal(await page.getByTestId('auto-sync-indicator').count(), 0, 'no status bar note')

  // A typo is caught before anything is saved.
  await page.getByTestId('auto-sync-minutes').fill('3')
  await page.getByTestId('auto-sync-on').click() // stays off: check() would insist
  await page.getByTestId('auto-sync-problem').waitFor()
  assert.match(await page.getByTestId('auto-sync-problem').innerText(), /at least 5 minutes/)
  assert.deepEqual(await callArgs(page, 'auto_sync_set'), [], 'nothing sent')
  assert.equal(await page.getByTestId('auto-sync-on').isChecked(), false, 'still off')

  await page.getByTestId('auto-sync-minutes').fill('15')
  await page.getByTestId('auto-sync-on').check()
  await page.getByTestId('auto-sync-schedule').filter({ hasText: 'Next run' }).waitFor()
  assert.deepEqual(await callArgs(page, 'auto_sync_set'), [{ minutes: 15 }], 'saved 15 minutes')
  assert.equal(await page.getByTestId('auto-sync-on').isChecked(), true, 'on')
  await page.getByTestId('auto-sync-indicator').waitFor()
  assert.match(await page.getByTestId('auto-sync-indicator').innerText(), /auto-sync: next run/i)

  // A new interval is applied with Enter.
  await page.getByTestId('auto-sync-minutes').fill('60')
  await page.getByTestId('auto-sync-minutes').press('Enter')
  await page.waitForFunction(() =>
    window.__mock.calls.some((c) => c.cmd === 'auto_sync_set' && c.args.minutes === 60)
  )

  // Rust reports an auto run going, then its outcome.
  await page.evaluate((s) => window.__sync.auto(s), AUTO_RUN_GOING)
  await page.getByTestId('auto-sync-cancel').waitFor()
  assert.equal(await page.getByTestId('auto-sync-schedule').innerText(), 'Running now')
  assert.equal(await page.getByTestId('sync-push').isDisabled(), true, 'no manual push meanwhile')
  await page.screenshot({ path: join(shots, 'sync-auto-running.png') })
  await page.getByTestId('auto-sync-cancel').click()
  await page.waitForFunction(() => window.__mock.calls.some((c) => c.cmd === 'run_cancel'))
  await page.evaluate(() =>
    window.__sync.auto({
      running: false,
      progress: null,
      nextRunAt: '2026-11-27T20:00:00Z',
      last: {
        startedAt: '2026-11-27T19:00:00Z',
        finishedAt: '2026-11-27T19:00:05Z',
        outcome: 'partial',
        message: 'Push #9: partial, 38 written, 2 failed',
        runIds: [9]
      }
    })
  )
  const last = page.getByTestId('auto-sync-last')
  await last.waitFor()
  assert.equal(await last.getAttribute('data-outcome'), 'partial')
  assert.match(await last.innerText(), /38 written, 2 failed/, 'what happened')
  await page.screenshot({ path: join(shots, 'sync-auto-last.png') })
  await page.getByTestId('auto-sync-open-run').click()
  await page.getByTestId('screen-history').waitFor()

  // Off again from the Sync screen.
  await page.getByTestId('nav-sync').click()
  await page.getByTestId('auto-sync-on').uncheck()
  await page.getByTestId('auto-sync-schedule').filter({ hasText: 'Off' }).waitFor()
  assert.deepEqual((await callArgs(page, 'auto_sync_set')).at(-1), { minutes: null }, 'off sent')
  assert.equal(await page.getByTestId('auto-sync-indicator').count(), 0, 'note gone')
  assert.deepEqual(errors, [], 'no console errors')
  await page.close()
})

test('no screen makes the window itself scroll: only the content area does', async () => {
  // react-aria's visually hidden inputs are absolutely positioned; with no positioned ancestor
  // they sat in document coordinates below a long screen and scrolled the whole window.
  const { page } = await harness.open({ ...READY, workflow: {} }, 1280, 800)
  for (const id of ['connect', 'options', 'mapping', 'workflow', 'sync', 'history']) {
    await page.getByTestId(`nav-${id}`).click()
    await page.getByTestId(`screen-${id}`).waitFor()
    const extra = await page.evaluate(
      () => document.scrollingElement.scrollHeight - window.innerHeight
    )
    assert.ok(extra <= 0, `${id}: the document is ${extra}px taller than the window`)
  }
  await page.close()
})
