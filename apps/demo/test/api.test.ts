import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoProcess, until } from './helpers/demo-process.js'
import type { RunningDemo } from './helpers/demo-process.js'

interface CircuitView {
  name: string
  worker: number
  storage: string
  state: string
  failures: number
  successes: number
  epoch: number
}
interface DemoEvent {
  id: number
  kind: string
  circuit?: string
  backend?: string
  to?: string
  text?: string
}

let demo: RunningDemo
const url = (path: string) => new URL(path, demo.url).toString()
const getJson = async <T>(path: string): Promise<T> => (await fetch(url(path))).json() as Promise<T>
const post = (path: string, body?: unknown, raw?: string) =>
  fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? (body === undefined ? '' : JSON.stringify(body)) })
const circuit = async (name: string) => (await getJson<CircuitView[]>('/api/circuits')).find((c) => c.name === name)!
/** A POST on a connection of its own: the server closes it after refusing a huge body. */
const postOnOwnConnection = (path: string, body: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request(url(path), { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      resolve(res.statusCode!)
    })
    req.on('error', reject)
    req.end(body)
  })
const events = async () => (await getJson<{ events: DemoEvent[] }>('/api/overview')).events

beforeAll(async () => {
  // Traffic off: every outcome below comes from the test's own calls.
  demo = await startDemoProcess(['--no-traffic'])
})
afterAll(async () => {
  expect(await demo?.stop()).toBe(0)
})

describe('GET /api/circuits', () => {
  it('lists every circuit with name, worker, storage, state, counts and epoch', async () => {
    const res = await fetch(url('/api/circuits'))
    expect(res.status).toBe(200)
    const circuits = (await res.json()) as CircuitView[]
    expect(circuits.map((c) => c.name)).toEqual(expect.arrayContaining(['checkout', 'search']))
    for (const c of circuits) {
      expect(c).toMatchObject({ worker: 1, state: expect.stringMatching(/^(closed|open|half_open)$/) })
      expect(typeof c.storage).toBe('string')
      expect(Number.isInteger(c.failures) && Number.isInteger(c.successes) && Number.isInteger(c.epoch)).toBe(true)
    }
    expect(circuits.find((c) => c.name === 'checkout')!.storage).toBe('chain memory → bucket → null')
  })
})

describe('controls', () => {
  it('counts protected calls made through POST /api/call/:name against the simulated upstream', async () => {
    const before = await circuit('search')
    const res = await post('/api/call/search')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ worker: 1, circuit: 'search', ok: true })
    expect((await circuit('search')).successes).toBe(before.successes + 1)
  })

  it('opens a circuit once the upstream fails every call', async () => {
    expect((await post('/api/upstream', { failureRate: 1, latencyMs: 0 })).status).toBe(200)
    for (let i = 0; i < 12; i++) expect(await (await post('/api/call/search')).json()).toMatchObject({ ok: false })
    expect((await circuit('search')).state).toBe('open')
    const transition = (await events()).find((e) => e.kind === 'transition' && e.circuit === 'search' && e.to === 'open')
    expect(transition).toBeDefined()
    expect((await post('/api/upstream', { failureRate: 0 })).status).toBe(200)
  })

  it('forces a circuit open and closed, and a hard reset clears its counts', async () => {
    const start = await circuit('checkout')
    expect((await post('/api/circuits/checkout/force-open')).status).toBe(200)
    expect(await circuit('checkout')).toMatchObject({ state: 'open', epoch: start.epoch + 1 })
    expect((await post('/api/circuits/checkout/force-close')).status).toBe(200)
    expect(await circuit('checkout')).toMatchObject({ state: 'closed', epoch: start.epoch + 2 })
    await post('/api/call/checkout')
    expect((await circuit('checkout')).successes).toBeGreaterThan(0)
    expect((await post('/api/circuits/checkout/hard-reset')).status).toBe(200)
    expect(await circuit('checkout')).toMatchObject({ state: 'closed', failures: 0, successes: 0 })
  })

  it('breaks the primary storage: the chain falls back, then writes back once it heals', async () => {
    expect((await post('/api/storage/primary', { mode: 'throw' })).status).toBe(200)
    await post('/api/circuits/checkout/force-open')
    const fallback = await until('a storage fallback event', async () => (await events()).find((e) => e.kind === 'fallback' && e.backend === 'memory'))
    expect(fallback).toMatchObject({ circuit: expect.any(String) })
    const overview = await getJson<{ workers: Array<{ chain: Array<{ backend: string; healthy: boolean; owedWriteBacks: number }> }> }>('/api/overview')
    expect(overview.workers[0]!.chain.map((b) => b.backend)).toEqual(['memory', 'bucket', 'null'])
    expect(overview.workers[0]!.chain[0]!.owedWriteBacks).toBeGreaterThan(0)

    expect((await post('/api/storage/primary', { mode: 'ok' })).status).toBe(200)
    // The chain retries the primary after unhealthyFor (4 s) and writes back what it missed.
    await until('the write-back event', async () => (await events()).find((e) => e.kind === 'writeback' && e.backend === 'memory'), 12_000, 200)
    expect((await circuit('checkout')).state).toBe('open')
    await post('/api/circuits/checkout/hard-reset')
  }, 30_000)

  it('puts a span event from the in-memory exporter behind each transition', async () => {
    await post('/api/circuits/search/force-close')
    await post('/api/circuits/search/force-open')
    const span = await until('a breaker.transition span event', async () =>
      (await events()).find((e) => e.kind === 'span' && (e as unknown as { event: string }).event === 'breaker.transition'),
    )
    expect((span as unknown as { attributes: Record<string, unknown> }).attributes).toMatchObject({ 'breaker.circuit': expect.any(String) })
    await post('/api/circuits/search/hard-reset')
  })
})

interface HedgeRecord {
  worker: number
  winner: number | null
  attempts: number
  aborted: number
  hedgedMs: number
  unhedgedMs: number
}
interface HedgeRun {
  worker: number
  records: HedgeRecord[]
  summary: { requests: number; firstWon: number; hedgeWon: number; aborted: number }
}
interface WorkerPanels {
  hedging: { hedge: { delay: number; attempts: number }; upstream: { slowRate: number; slowMs: number; baseMs: number } }
  dependency: {
    storage: { label: string; scope: string }
    payments: { state: string }
    checkout: { state: string; failures: number; rejections: number; calls: { ok: number; dependency: number; other: number } }
  }
}
interface CheckoutResult {
  worker: number
  ok: boolean
  error?: { name: string; code: string; dependency: string }
}
const panels = async () => (await getJson<{ workers: WorkerPanels[] }>('/api/overview')).workers[0]!
const runHedged = async (requests: number) => {
  const res = await post('/api/hedging/run', { requests })
  expect(res.status).toBe(200)
  return (await res.json()) as HedgeRun
}
/** Nearest-rank p90 of what the records measured. */
const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(0.9 * values.length) - 1]!
const callCheckout = async () => {
  const res = await post('/api/dependency/checkout/call')
  expect(res.status).toBe(200)
  return ((await res.json()) as { results: Array<{ worker: number; ok: boolean; value: CheckoutResult }> }).results.map((r) => r.value)
}

describe('hedging panel', () => {
  it('with no slow tail, the first attempt wins every request and nothing is started again or aborted', async () => {
    expect((await post('/api/hedging', { slowRate: 0, baseMs: 20 })).status).toBe(200)
    const { records } = await runHedged(20)
    expect(records).toHaveLength(20)
    for (const r of records) expect(r).toMatchObject({ winner: 1, attempts: 1, aborted: 0 })
  })

  it('with a slow tail, hedges win the slow requests, the losing attempts are aborted and p90 drops far below the first attempt alone', async () => {
    const set = await post('/api/hedging', { slowRate: 0.25, slowMs: 800 })
    expect(await set.json()).toMatchObject({ results: [{ worker: 1, ok: true, value: { slowRate: 0.25, slowMs: 800, baseMs: 20 } }] })
    expect((await panels()).hedging).toMatchObject({ hedge: { delay: 50, attempts: 3 }, upstream: { slowRate: 0.25, slowMs: 800 } })
    const before = (await runHedged(1)).summary

    const { records, summary } = await runHedged(100)
    const hedgeWins = records.filter((r) => r.winner !== null && r.winner > 1)
    // P(no first attempt slow in 100 at 25 %) is 0.75^100: a hedge wins some.
    expect(hedgeWins.length).toBeGreaterThan(0)
    for (const r of records) {
      expect(r.winner).not.toBeNull()
      // Every attempt but the winner was started and then aborted when the winner answered.
      expect(r.aborted).toBe(r.attempts - 1)
    }
    expect(summary.hedgeWon - before.hedgeWon).toBe(hedgeWins.length)
    expect(summary.aborted - before.aborted).toBe(records.reduce((n, r) => n + r.aborted, 0))
    // A quarter of first attempts take 720-880 ms; a request stays slow only when all three are slow.
    expect(p90(records.map((r) => r.unhedgedMs))).toBeGreaterThanOrEqual(700)
    expect(p90(records.map((r) => r.hedgedMs))).toBeLessThan(400)
    await post('/api/hedging', { slowRate: 0.1, slowMs: 600 })
  }, 30_000)
})

describe('dependency panel', () => {
  it('runs payments and checkout on the shared SysV storage', async () => {
    expect((await panels()).dependency.storage).toEqual({ label: 'sysv', scope: 'host' })
  })

  it('rejects checkout with CircuitDependencyError while a tripped payments is open, without counting a failure, and serves once payments closes', async () => {
    expect(await callCheckout()).toEqual([expect.objectContaining({ worker: 1, ok: true })])

    const trip = await post('/api/dependency/payments/trip')
    expect(trip.status).toBe(200)
    const tripped = (await trip.json()) as { state: string; failingCalls: number }
    expect(tripped.state).toBe('open')
    expect(tripped.failingCalls).toBeGreaterThanOrEqual(10)

    const rejected = await callCheckout()
    expect(rejected).toEqual([
      expect.objectContaining({ worker: 1, ok: false, error: expect.objectContaining({ name: 'CircuitDependencyError', code: 'ERR_CIRCUIT_DEPENDENCY', dependency: 'payments' }) }),
    ])
    const { dependency } = await panels()
    expect(dependency.payments.state).toBe('open')
    // The dependency turned checkout's call away: checkout itself stays closed with no failure.
    expect(dependency.checkout).toMatchObject({ state: 'closed', failures: 0 })
    expect(dependency.checkout.calls.dependency).toBeGreaterThan(0)
    expect(dependency.checkout.rejections).toBeGreaterThan(0)
    expect((await events()).find((e) => e.kind === 'control' && /trip payments on worker 1: open/.test(e.text ?? ''))).toBeDefined()

    expect((await post('/api/dependency/payments/force-close')).status).toBe(200)
    expect(await callCheckout()).toEqual([expect.objectContaining({ ok: true })])
  })

  it('rejects checkout while payments is forced open, and serves again after a hard reset of payments', async () => {
    const open = await post('/api/dependency/payments/force-open')
    expect(await open.json()).toMatchObject({ worker: 1, action: 'force-open', state: 'open' })
    expect(await callCheckout()).toEqual([expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'ERR_CIRCUIT_DEPENDENCY' }) })])
    expect(await (await post('/api/dependency/payments/hard-reset')).json()).toMatchObject({ state: 'closed' })
    expect(await callCheckout()).toEqual([expect.objectContaining({ ok: true })])
  })
})

describe('snapshots', () => {
  it('exports every worker as a JSON download and restores it on import', async () => {
    await post('/api/circuits/search/force-open')
    const res = await fetch(url('/api/snapshot'))
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="breaker-snapshot-.*\.json"$/)
    const snapshot = (await res.json()) as { workers: Array<{ worker: number; snapshot: { version: number; circuits: Array<{ name: string; state: string }> } }> }
    expect(snapshot.workers[0]!.snapshot.version).toBe(1)
    expect(snapshot.workers[0]!.snapshot.circuits.find((c) => c.name === 'search')!.state).toBe('open')

    await post('/api/circuits/search/hard-reset')
    expect((await circuit('search')).state).toBe('closed')
    const imported = await post('/api/snapshot', snapshot)
    expect(imported.status).toBe(200)
    expect(await imported.json()).toMatchObject({ results: [{ worker: 1, restored: expect.arrayContaining(['search']) }] })
    expect((await circuit('search')).state).toBe('open')

    // A bare registry snapshot (registry.exportAll()) goes to every worker.
    expect((await post('/api/snapshot', snapshot.workers[0]!.snapshot)).status).toBe(200)
    await post('/api/circuits/search/hard-reset')
  })
})

describe('bad input', () => {
  const cases: Array<[string, string, unknown, RegExp, string?]> = [
    ['not JSON', '/api/upstream', undefined, /body must be JSON/, '{oops'],
    ['an empty body', '/api/upstream', undefined, /empty body/],
    ['a failure rate above 1', '/api/upstream', { failureRate: 2 }, /failureRate must be a number from 0 to 1, got 2/],
    ['a failure rate as text', '/api/upstream', { failureRate: '50%' }, /failureRate/],
    ['a negative latency', '/api/upstream', { latencyMs: -5 }, /latencyMs must be an integer from 0/],
    ['an unknown field', '/api/upstream', { failure: 1 }, /unknown field 'failure'/],
    ['an array body', '/api/traffic', [true], /JSON object/],
    ['traffic enabled as text', '/api/traffic', { enabled: 'yes' }, /enabled must be true or false/],
    ['a zero rate', '/api/traffic', { rate: 0 }, /rate must be a number from 1 to 1000/],
    ['an unknown storage mode', '/api/storage/primary', { mode: 'explode' }, /mode must be one of ok, throw, hang/],
    ['an unknown circuit action', '/api/circuits/search/explode', undefined, /action must be one of/],
    ['a circuit name with spaces', '/api/circuits/a%20b/force-open', undefined, /circuit name must be/],
    ['a snapshot of another version', '/api/snapshot', { version: 7, circuits: [] }, /snapshot\.version must be 1/],
    ['a snapshot entry with a bad state', '/api/snapshot', { version: 1, circuits: [{ name: 'search', state: 'weird', openedAt: null, epoch: 1, failureCount: 0, successCount: 0 }] }, /snapshot\.state/],
    ['a snapshot that is neither kind', '/api/snapshot', { hello: 1 }, /demo snapshot/],
    ['a slow share above 1', '/api/hedging', { slowRate: 1.5 }, /slowRate must be a number from 0 to 1, got 1.5/],
    ['a slow latency as text', '/api/hedging', { slowMs: 'long' }, /slowMs must be an integer from 0 to 10000/],
    ['a tail field it does not know', '/api/hedging', { p90: 1 }, /unknown field 'p90'/],
    ['a hedged run of 0 requests', '/api/hedging/run', { requests: 0 }, /requests must be an integer from 1 to 100, got 0/],
    ['a hedged run of 101 requests', '/api/hedging/run', { requests: 101 }, /requests must be an integer from 1 to 100/],
    ['an unknown payments action', '/api/dependency/payments/explode', undefined, /action must be one of trip, force-open, force-close, hard-reset/],
  ]

  it.each(cases)('answers 400 with a message for %s', async (_, path, body, message, raw) => {
    const res = await post(path, body, raw)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toMatch(message)
  })

  it('answers 404 for an unknown circuit or route, 413 for a huge body, and keeps serving', async () => {
    const unknown = await post('/api/circuits/nope/force-open')
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual({ error: "no circuit named 'nope'" })
    expect((await fetch(url('/api/nothing-here'))).status).toBe(404)
    expect(await postOnOwnConnection('/api/snapshot', `{"x":"${'a'.repeat(1_100_000)}"}`)).toBe(413)
    expect(await (await fetch(url('/api/health'))).json()).toMatchObject({ ok: true })
  })
})

describe('GET /api/events', () => {
  it('streams the state, the recent events, then each new event as server-sent events', async () => {
    const controller = new AbortController()
    const res = await fetch(url('/api/events'), { signal: controller.signal })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before ${pattern}: ${text.slice(0, 500)}`)
        text += value
      }
    }
    await readUntil(/event: state\ndata: \{.*"circuits":\[/)
    await readUntil(/event: events\ndata: \[/)
    await post('/api/traffic', { rate: 7 })
    await readUntil(/event: event\ndata: \{[^\n]*"kind":"control"[^\n]*traffic: rate 7/)
    controller.abort()
  })
})
