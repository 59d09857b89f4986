/* global process, performance, document, window, requestAnimationFrame, setTimeout -- Node here; the page.evaluate callbacks run in the browser */
// UI benchmark of the Mapping screen (not a test: it measures, it does not assert).
//
// Opens the built UI (ui/dist) in headless Chromium with the mocked backend answering 5,000
// HubSpot properties × 300 Didomi rows (tests/mock-pmp.ts) and measures, inside the page with
// performance.now(), until the next frame after the DOM changed:
//   - openMs:      click on "Mapping" in the sidebar → all rows rendered
//   - dropdownMs:  mouse down in a row's property field → the list of properties shown
//   - keystrokeMs: a key typed in that field → the filtered list shown (each of 8 keystrokes)
// Each run is a fresh page; the medians over RUNS runs are printed as JSON on stdout.
// Run with `npm run bench:mapping` (builds first). The mocked IPC answers at once, so the
// numbers are the UI's own cost (rendering, filtering), not the core's.
import { startHarness } from '../tests/harness.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 7)
const ROWS = 300
const PROPERTIES = 5000
/** Each key changes the list: narrower and narrower, then empty, then back. */
const KEYS = ['4', '2', '1', '0', 'Backspace', 'Backspace', 'Backspace', 'Backspace']

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
const round = (x) => Math.round(x * 10) / 10

async function oneRun(h) {
  const { page, errors } = await h.open({
    connected: true,
    pmp: { rows: ROWS, properties: PROPERTIES }
  })
  const openMs = await page.evaluate(
    (rows) =>
      new Promise((resolve) => {
        const t0 = performance.now()
        document.querySelector('[data-testid="nav-mapping"]').click()
        const check = () => {
          if (document.querySelectorAll('[data-testid="mapping-row"]').length >= rows) {
            requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0)))
          } else requestAnimationFrame(check)
        }
        check()
      }),
    ROWS
  )

  // A real click (mouse down/up) in the field of a boolean row in the middle of the list; the
  // clock starts at the page's mousedown.
  const target = page
    .locator('[data-testid="mapping-row"][data-kind="boolean"]')
    .nth(Math.floor(ROWS / 2) - 50)
    .getByTestId('mapping-combobox')
  await target.scrollIntoViewIfNeeded()
  await page.evaluate(() => {
    window.__dropdown = new Promise((resolve) => {
      document.addEventListener(
        'mousedown',
        () => {
          const t0 = performance.now()
          const check = () => {
            if (document.querySelector('[role="listbox"] [data-testid="mapping-option"]')) {
              requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0)))
            } else requestAnimationFrame(check)
          }
          check()
        },
        { capture: true, once: true }
      )
    })
  })
  await target.click()
  const dropdownMs = await page.evaluate(() => window.__dropdown)

  // Every keydown starts a clock that stops at the frame after the list's content changed.
  await page.evaluate(() => {
    window.__keystrokes = []
    document.addEventListener(
      'keydown',
      () => {
        const t0 = performance.now()
        const text = () => document.querySelector('[role="listbox"]')?.textContent ?? ''
        const before = text()
        const poll = () => {
          if (text() !== before) {
            requestAnimationFrame(() =>
              setTimeout(() => window.__keystrokes.push(performance.now() - t0))
            )
          } else if (performance.now() - t0 > 3000) window.__keystrokes.push(NaN)
          else requestAnimationFrame(poll)
        }
        requestAnimationFrame(poll)
      },
      true
    )
  })
  for (const [i, key] of KEYS.entries()) {
    await page.keyboard.press(key)
    await page.waitForFunction((n) => window.__keystrokes.length > n, i)
  }
  const keystrokes = await page.evaluate(() => window.__keystrokes)
  await page.close()
  if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`)
  if (keystrokes.some(Number.isNaN)) throw new Error('a keystroke did not change the list')
  return { openMs, dropdownMs, keystrokes }
}

const h = await startHarness()
try {
  await oneRun(h) // warm-up (JIT, font cache); not counted
  const runs = []
  for (let i = 0; i < RUNS; i++) runs.push(await oneRun(h))
  const keys = runs.flatMap((r) => r.keystrokes)
  const result = {
    rows: ROWS,
    properties: PROPERTIES,
    runs: RUNS,
    openMs: round(median(runs.map((r) => r.openMs))),
    dropdownMs: round(median(runs.map((r) => r.dropdownMs))),
    keystrokeMs: round(median(keys)),
    keystrokeMaxMs: round(Math.max(...keys))
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n')
} finally {
  await h.close()
}
