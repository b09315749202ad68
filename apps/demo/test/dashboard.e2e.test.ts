import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { get } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { startDemoProcess, until } from './helpers/demo-process.js'
import type { RunningDemo } from './helpers/demo-process.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium'
const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url))
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

/** Runs in the page: every circuit tile of both workers shows an open circuit. */
function everyTileOpen(): boolean {
  const tiles = [...document.querySelectorAll<HTMLElement>('.tile')]
  const workers = new Set(tiles.map((t) => t.dataset['worker']))
  return workers.size === 2 && tiles.length >= 4 && tiles.every((t) => t.dataset['state'] === 'open')
}

describe('dashboard in headless Chromium, demo on 2 cluster workers', () => {
  let demo: RunningDemo
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium or set CHROMIUM_PATH`)
    ;[demo, browser] = await Promise.all([
      startDemoProcess(['--workers', '2', '--rate', '40']),
      chromium.launch({ executablePath: CHROMIUM, args: FLAGS }),
    ])
    page = await browser.newPage({ viewport: { width: 1600, height: 1100 } })
  })

  afterAll(async () => {
    await browser?.close()
    await demo?.stop()
  })

  it('answers /api/circuits with both workers\' circuits, whichever worker the round-robin picks', async () => {
    const servedBy = new Set<string>()
    for (let i = 0; i < 4; i++) {
      // A fresh connection each time, so the cluster's round-robin hands it to the next worker.
      const { worker, body } = await new Promise<{ worker: string; body: string }>((resolve, reject) => {
        get(new URL('/api/circuits', demo.url), { agent: false }, (res) => {
          let body = ''
          res.on('data', (d) => (body += d))
          res.on('end', () => resolve({ worker: String(res.headers['x-demo-worker']), body }))
        }).on('error', reject)
      })
      servedBy.add(worker)
      const circuits = JSON.parse(body) as Array<{ name: string; worker: number }>
      expect(new Set(circuits.map((c) => c.worker))).toEqual(new Set([1, 2]))
    }
    expect(servedBy).toEqual(new Set(['1', '2']))
  })

  it('shows a circuit trip in every worker, then the storage fallback, and saves a screenshot', async () => {
    await page.goto(demo.url)
    for (const worker of [1, 2]) {
      await page.waitForSelector(`.tile[data-circuit="search"][data-worker="${worker}"][data-state="closed"]`, { timeout: 15_000 })
    }

    await page.click('[data-testid="failure-100"]')
    // Every circuit on every worker opens: in-process ones on their own, SysV-shared ones together.
    await page.waitForFunction(everyTileOpen, undefined, { timeout: 20_000 })
    expect(await page.locator('.mrow.all-open').count()).toBeGreaterThanOrEqual(2)
    await page.waitForSelector('#feed li[data-kind="transition"][data-to="open"]')

    await page.click('[data-testid="primary-throw"]')
    await page.waitForSelector('#feed li[data-kind="fallback"]', { timeout: 15_000 })
    await page.waitForSelector('.link.unhealthy[data-backend="memory"]', { timeout: 15_000 })
    await page.waitForSelector('#spans li[data-event="breaker.storage.fallback"]', { timeout: 15_000 })

    // checkout now counts on the bucket backend, which started blank: it trips there too.
    await page.waitForFunction(everyTileOpen, undefined, { timeout: 20_000 })

    mkdirSync(SCREENSHOTS, { recursive: true })
    const file = `${SCREENSHOTS}dashboard.png`
    // Finite animations (a feed item sliding in) are finished first, so nothing is caught half-faded.
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' })
    expect(statSync(file).size).toBeGreaterThan(10_000)
  }, 60_000)

  it('downloads a snapshot of both workers and uploads it back through the page', async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('[data-testid="export"]')])
    expect(download.suggestedFilename()).toMatch(/^breaker-snapshot-.*\.json$/)
    const saved = `${SCREENSHOTS}snapshot.json`
    await download.saveAs(saved)
    const snapshot = JSON.parse(readFileSync(saved, 'utf8')) as { workers: Array<{ worker: number; snapshot: { circuits: unknown[] } }> }
    expect(snapshot.workers.map((w) => w.worker).sort()).toEqual([1, 2])

    await page.setInputFiles('#import-file', saved)
    await page.waitForSelector('#feed li[data-kind="control"]:has-text("imported a state snapshot")', { timeout: 10_000 })
  })

  it('hedging panel: with a slow tail, hedges win on both workers, the losers are aborted and the hedged p90 stays far below the first attempt alone', async () => {
    await page.click('[data-testid="tail-30"]')
    // The slider sends its value on change, as a drag ending does.
    await page.$eval('#slow-ms', (el: HTMLInputElement) => {
      el.value = '900'
      el.dispatchEvent(new Event('change'))
    })
    await page.waitForSelector('#slow-ms-value:has-text("900 ms")', { timeout: 10_000 })
    await page.waitForSelector('[data-testid="tail-30"].active', { timeout: 10_000 })
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll<HTMLElement>('#hedge-workers tr[data-worker]')]
        const p90 = (row: HTMLElement, cls: string) => Number(row.querySelector<HTMLElement>(`td.${cls}`)?.dataset['p90'] || NaN)
        return (
          rows.length === 2 &&
          rows.every((r) => Number(r.dataset['hedgeWon']) > 0 && Number(r.dataset['aborted']) > 0 && p90(r, 'without') >= 800 && p90(r, 'with') < p90(r, 'without') / 2)
        )
      },
      undefined,
      { timeout: 30_000 },
    )
    await page.waitForSelector('#hedge-requests li.hedge-won:has-text("won")')
    mkdirSync(SCREENSHOTS, { recursive: true })
    await page.locator('.panels').screenshot({ path: `${SCREENSHOTS}panels-hedging.png`, animations: 'disabled' })
  }, 45_000)

  it('dependency panel: tripping payments on one worker turns checkout away with CircuitDependencyError on both workers until payments closes', async () => {
    const outcome = (worker: number, payments: string, result: string) => `.dep-worker[data-worker="${worker}"][data-payments="${payments}"][data-outcome="${result}"]`
    for (const worker of [1, 2]) await page.waitForSelector(outcome(worker, 'closed', 'ok'), { timeout: 15_000 })

    await page.click('[data-testid="payments-trip"]')
    for (const worker of [1, 2]) {
      const row = await page.waitForSelector(outcome(worker, 'open', 'dependency'), { timeout: 15_000 })
      expect(await row.textContent()).toContain("CircuitDependencyError (ERR_CIRCUIT_DEPENDENCY), dependency 'payments'")
    }
    await page.locator('.panels').screenshot({ path: `${SCREENSHOTS}panels-dependency.png`, animations: 'disabled' })
    // Traffic keeps calling payments: after resetAfter (~5 s) its probes succeed and it closes,
    // and checkout serves again on both workers without anyone touching it.
    for (const worker of [1, 2]) await page.waitForSelector(outcome(worker, 'closed', 'ok'), { timeout: 20_000 })

    // Forced open through one worker: the other worker's checkout reads it from the shared storage.
    const forced = (await (await fetch(new URL('/api/dependency/payments/force-open', demo.url), { method: 'POST' })).json()) as { worker: number; state: string }
    expect(forced.state).toBe('open')
    const called = (await (await fetch(new URL('/api/dependency/checkout/call', demo.url), { method: 'POST' })).json()) as {
      results: Array<{ worker: number; value: { ok: boolean; error?: { code: string; dependency: string } } }>
    }
    expect(called.results.map((r) => r.worker).sort()).toEqual([1, 2])
    for (const r of called.results) expect(r.value).toMatchObject({ ok: false, error: { code: 'ERR_CIRCUIT_DEPENDENCY', dependency: 'payments' } })
    await page.click('[data-testid="payments-force-close"]')
    for (const worker of [1, 2]) await page.waitForSelector(outcome(worker, 'closed', 'ok'), { timeout: 10_000 })
  }, 60_000)

  it('replaces a worker that dies and brings it to the settings the dashboard set, the hedging tail included', async () => {
    type Overview = { workers: Array<{ worker: number; pid: number; upstream: { failureRate: number }; primaryMode: string; hedging: { upstream: { slowRate: number; slowMs: number } } | null }> }
    const overview = async () => (await (await fetch(new URL('/api/overview', demo.url), { signal: AbortSignal.timeout(5_000) })).json()) as Overview
    const victim = (await overview()).workers[0]!
    process.kill(victim.pid, 'SIGKILL')
    const after = await until('a replacement worker with the same settings', async () => {
      const { workers } = await overview()
      const fresh = workers.find((w) => w.worker > 2)
      const tail = fresh?.hedging?.upstream
      return workers.length === 2 && fresh && fresh.upstream?.failureRate === 1 && fresh.primaryMode === 'throw' && tail?.slowRate === 0.3 && tail.slowMs === 900 ? workers : undefined
    }, 20_000, 200).catch((error: Error) => {
      throw new Error(`${error.message}\ndemo output:\n${demo.output().slice(-3000)}`)
    })
    expect(after.map((w) => w.worker)).not.toContain(victim.worker)
    expect(demo.output()).toMatch(new RegExp(`worker ${victim.worker} exited \\(SIGKILL\\); starting a new one`))
  }, 30_000)
})
