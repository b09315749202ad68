import { Circuit } from '@breaker/core'
import { MemoryStorage } from '@breaker/storage-memory'
import { percentile } from './percentile.js'

/** Settings of the tail-latency upstream; the API validates before they get here. */
export const TAIL_LIMITS = Object.freeze({ maxLatencyMs: 10_000 })

/** Hedging of the panel's circuit: a second attempt after 50 ms, a third after 100 ms. */
export const HEDGE = Object.freeze({ delay: 50, attempts: 3 })
/** The panel's circuit gives a request (all its attempts together) this long (ms). */
const CALL_TIMEOUT_MS = 1_000
/** Requests kept per worker for the panel's list and percentiles. */
const KEPT = 200

/**
 * A simulated upstream with a latency tail: most requests take about `baseMs`, a share
 * `slowRate` of them about `slowMs` (`slowRate: 0.1` makes the 90th percentile slow). It never
 * fails: the point is latency. Each request's latency is drawn when it starts, so the panel
 * knows what the first attempt alone would have taken even when a hedge won and it was aborted.
 */
export class TailUpstream {
  baseMs = 20
  slowMs = 600
  slowRate = 0.1

  /**
   * Applies the given settings; fields left out keep their value.
   * @param {{ baseMs?: number, slowMs?: number, slowRate?: number }} settings
   */
  configure({ baseMs, slowMs, slowRate } = {}) {
    if (baseMs !== undefined) this.baseMs = baseMs
    if (slowMs !== undefined) this.slowMs = slowMs
    if (slowRate !== undefined) this.slowRate = slowRate
    return this.settings()
  }

  settings() {
    return { baseMs: this.baseMs, slowMs: this.slowMs, slowRate: this.slowRate }
  }

  /** Draws one request's latency (ms): ±25 % around the base, ±10 % around the slow value. */
  draw() {
    return Math.random() < this.slowRate ? this.slowMs * (0.9 + Math.random() * 0.2) : this.baseMs * (0.75 + Math.random() * 0.5)
  }

  /**
   * One request taking `latencyMs`; aborting `signal` ends it at once with the signal's reason
   * and calls `onAbort` (the panel counts aborted attempts there).
   */
  request(latencyMs, signal, onAbort) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', aborted)
        resolve(latencyMs)
      }, latencyMs)
      const aborted = () => {
        clearTimeout(timer)
        onAbort()
        reject(signal.reason)
      }
      if (signal.aborted) return aborted()
      signal.addEventListener('abort', aborted, { once: true })
    })
  }
}

/**
 * The hedging panel of one worker: a circuit with `hedge` on, in front of a {@link TailUpstream}.
 * Each request records which attempt won (1 = the first, 2+ = a hedge), how long the hedged call
 * took, how long the first attempt alone would have taken (its drawn latency, or the call's
 * timeout when it is longer: without hedging that request would have timed out), and how many
 * attempts were aborted when the winner answered.
 */
export class HedgeLab {
  #results = []
  #seq = 0
  #totals = { requests: 0, firstWon: 0, hedgeWon: 0, aborted: 0, failed: 0 }

  constructor({ registry, worker, options = {} }) {
    this.worker = worker
    this.upstream = new TailUpstream()
    // Hedging acts per call, so this worker's own memory is all the circuit needs.
    this.circuit = new Circuit('hedged', { ...options, storage: new MemoryStorage(), timeout: CALL_TIMEOUT_MS, hedge: HEDGE, registry })
  }

  /** One hedged request; answers its record (never rejects: a failure is recorded as one). */
  async request() {
    const drawn = []
    let aborted = 0
    const started = performance.now()
    const at = Date.now()
    let record
    try {
      const winner = await this.circuit.call((signal) => {
        const attempt = drawn.push(this.upstream.draw())
        return this.upstream.request(drawn[attempt - 1], signal, () => aborted++).then(() => attempt)
      })
      const hedgedMs = performance.now() - started
      record = { winner, attempts: drawn.length, aborted, hedgedMs: round(hedgedMs), unhedgedMs: round(Math.min(drawn[0], CALL_TIMEOUT_MS)), unhedgedTimedOut: drawn[0] > CALL_TIMEOUT_MS }
    } catch (error) {
      record = { winner: null, attempts: drawn.length, aborted, hedgedMs: round(performance.now() - started), unhedgedMs: drawn.length ? round(Math.min(drawn[0], CALL_TIMEOUT_MS)) : null, error: error.code ?? error.name }
    }
    const full = { id: ++this.#seq, at, worker: this.worker, ...record }
    this.#count(full)
    this.#results.push(full)
    if (this.#results.length > KEPT) this.#results.shift()
    return full
  }

  /** Runs `count` hedged requests, ten at a time (so a run is over within `count / 10` s); answers their records. */
  async run(count) {
    const records = []
    for (let i = 0; i < count; i += 10) records.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => this.request()))))
    return { worker: this.worker, records, summary: this.summary() }
  }

  /** Totals since start and percentiles over the kept requests, with and without hedging. */
  summary() {
    const done = this.#results.filter((r) => r.winner !== null)
    const hedged = done.map((r) => r.hedgedMs).sort((a, b) => a - b)
    const unhedged = done.map((r) => r.unhedgedMs).sort((a, b) => a - b)
    const pct = (sorted) => ({ p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99) })
    return { ...this.#totals, window: done.length, hedged: pct(hedged), unhedged: pct(unhedged) }
  }

  /** What the dashboard draws for this worker. */
  report() {
    return { worker: this.worker, hedge: HEDGE, timeoutMs: CALL_TIMEOUT_MS, upstream: this.upstream.settings(), summary: this.summary(), recent: this.#results.slice(-12) }
  }

  dispose() {
    return this.circuit.dispose()
  }

  #count(r) {
    const t = this.#totals
    t.requests++
    t.aborted += r.aborted
    if (r.winner === null) t.failed++
    else if (r.winner === 1) t.firstWon++
    else t.hedgeWon++
  }
}

function round(ms) {
  return Math.round(ms * 10) / 10
}
