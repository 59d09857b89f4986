// Shared setup of the browser tests: serves ui/dist on loopback, launches Debian's headless
// chromium, and opens pages with the mocked backend (tests/dist/mock-setup.js) injected.
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

const here = fileURLToPath(new URL('.', import.meta.url))
const dist = join(here, '..', 'dist')
const mockScript = join(here, 'dist', 'mock-setup.js')
/** Where screenshots go. */
export const shots = process.env.UI_SHOTS_DIR ?? '/tmp/ui-shots'
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png'
}

/** Starts the static server and the browser; returns `{ open, close }`. */
export async function startHarness() {
  mkdirSync(shots, { recursive: true })
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname
    const file = normalize(join(dist, path === '/' ? 'index.html' : path))
    if (!file.startsWith(dist)) return res.writeHead(403).end()
    try {
      const body = readFileSync(file)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      res.end(body)
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const baseUrl = `http://127.0.0.1:${server.address().port}/`
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run'
    ]
  })

  /** A fresh page (fresh mock state) with `scenario`, console errors collected. */
  async function open(scenario = {}, width = 1280, height = 800) {
    const page = await browser.newPage({ viewport: { width, height } })
    const errors = []
    page.on('pageerror', (e) => errors.push(String(e)))
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    await page.addInitScript((sc) => {
      window.__mockScenario = sc
    }, scenario)
    await page.addInitScript({ path: mockScript })
    await page.goto(baseUrl)
    await page.getByTestId('screen-connect').waitFor()
    return { page, errors }
  }

  async function close() {
    await browser.close()
    server.close()
  }
  return { open, close }
}

/** The names of the commands the page called, in order. */
export const calls = (page) => page.evaluate(() => window.__mock.calls.map((c) => c.cmd))

/** The arguments of each call of `cmd`; a Channel argument shows as the string `channel`. */
export const callArgs = (page, cmd) =>
  page.evaluate(
    (c) =>
      window.__mock.calls
        .filter((x) => x.cmd === c)
        .map((x) =>
          Object.fromEntries(
            Object.entries(x.args).map(([k, v]) => [
              k,
              typeof v?.onmessage === 'function' ? 'channel' : v
            ])
          )
        ),
    cmd
  )

/** An auto-sync status as Rust streams it while an auto run is writing (`window.__sync.auto`). */
export const AUTO_RUN_GOING = {
  running: true,
  nextRunAt: null,
  progress: {
    runId: 9,
    phase: 'writing',
    read: 120,
    toWrite: 40,
    written: 10,
    created: 0,
    updated: 10,
    unchanged: 80,
    skipped: 0,
    invalid: 0,
    duplicates: 0,
    failed: 0,
    ratePerS: 20,
    etaSeconds: 2,
    elapsedMs: 500
  }
}
