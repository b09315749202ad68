import { Circuit, Registry } from '@breaker/core'
import { buildBackends } from './backends.js'
import { DependencyLab } from './dependency.js'
import { HedgeLab } from './hedging.js'
import { startTelemetry } from './telemetry.js'
import { Traffic } from './traffic.js'
import { Upstream } from './upstream.js'

/** Options every demo circuit shares: trips fast and recovers fast, so the story fits a screen. */
export const CIRCUIT_OPTIONS = Object.freeze({
  threshold: { failureRate: 0.5, minimumCalls: 10, within: 4_000 },
  resetAfter: 5_000,
  jitter: 0.25,
  halfOpenCalls: 1,
  successThreshold: 2,
  timeout: 1_000,
})

/** How long one circuit's `stats()` may take before the report says so instead of waiting. */
const STATS_DEADLINE_MS = 1_500
/** How often finished spans are drained from the in-memory exporter (ms). */
const DRAIN_EVERY_MS = 250

/**
 * One worker's share of the demo: its circuits (one per wired backend), the simulated upstream,
 * the traffic generator and telemetry. The hub talks to it through `handle(op, args)` only, so
 * the same code runs in a single process and behind IPC in a cluster worker.
 */
export class DemoNode {
  #listeners = new Set()
  #circuits = []
  #owed = new Map()
  #drainTimer
  #storageErrorAt = new Map()

  constructor({ worker, options }) {
    this.worker = worker
    this.options = options
    this.registry = new Registry()
    /** The panels' circuits (`hedged`, `payments`, `checkout`): names of their own, apart from the matrix. */
    this.panels = new Registry()
    this.upstream = new Upstream()
    this.traffic = new Traffic(() => this.#targets(), { rate: options.rate, enabled: options.traffic })
  }

  /** Wires backends, circuits and telemetry, then starts traffic. Answers what was wired. */
  async start() {
    const { options } = this
    this.backends = await buildBackends(options)
    this.telemetry = await startTelemetry({ registry: this.registry, worker: this.worker, otlpEndpoint: options.otlpEndpoint }).catch(
      (error) => {
        this.backends.skipped.push({ what: 'opentelemetry', reason: error.message })
        return undefined
      },
    )
    for (const spec of this.backends.circuits) {
      try {
        const circuit = new Circuit(spec.name, {
          ...CIRCUIT_OPTIONS,
          storage: spec.storage,
          registry: this.registry,
          on: {
            stateChange: (e) => this.#emit({ kind: 'transition', circuit: e.circuit, from: e.from, to: e.to, epoch: e.epoch }),
            storageError: (error, ctx) => this.#storageError(error, ctx),
          },
        })
        this.#circuits.push({ ...spec, circuit })
      } catch (error) {
        // A storage the circuit refuses (a package mid-change) costs its circuit, not the demo.
        this.backends.skipped.push({ what: `circuit ${spec.name}`, reason: error.message })
        this.backends.wired = this.backends.wired.filter((line) => !line.startsWith(`${spec.name} `))
      }
    }
    this.#watchChain()
    // A panel whose circuits core refuses (a core mid-change) costs that panel, not the demo.
    this.hedging = this.#panel('hedging panel', () => new HedgeLab({ registry: this.panels, worker: this.worker, options: CIRCUIT_OPTIONS }))
    this.dependency = this.#panel('dependency panel', () => new DependencyLab({ ...this.backends.shared, registry: this.panels, worker: this.worker, options: CIRCUIT_OPTIONS }))
    if (this.telemetry) {
      this.#drainTimer = setInterval(() => {
        for (const span of this.telemetry.drain().slice(-40)) this.#emit({ kind: 'span', ...span, at: span.at })
      }, DRAIN_EVERY_MS)
    }
    this.traffic.start()
    return { wired: this.backends.wired, skipped: this.backends.skipped, otlp: Boolean(this.telemetry?.otlp) }
  }

  /** Listens to this node's events (transitions, fallbacks, span events, …). */
  onEvent(listener) {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The single entry point for the hub: `op` is one of the keys below. */
  async handle(op, args = {}) {
    switch (op) {
      case 'report':
        return this.report()
      case 'upstream':
        return this.upstream.configure(args)
      case 'traffic':
        return this.traffic.configure(args)
      case 'primary':
        return this.#setPrimary(args.mode)
      case 'circuit':
        return this.#circuitOp(args.circuit, args.op)
      case 'call':
        return this.#callOnce(args.circuit)
      case 'hedging':
        return this.#lab('hedging').upstream.configure(args)
      case 'hedgeRun':
        return this.#lab('hedging').run(args.requests)
      case 'payments':
        return this.#payments(args.action)
      case 'checkout':
        return this.#lab('dependency').callCheckout()
      case 'export':
        return this.registry.exportAll()
      case 'import':
        return this.registry.importStates(args.snapshot)
      default:
        throw new Error(`unknown node operation ${op}`)
    }
  }

  /** Every circuit of this worker with its state and window counts, plus the worker's settings. */
  async report() {
    const circuits = await Promise.all(this.#circuits.map((c) => this.#circuitReport(c)))
    const dependency = this.dependency
      ? await withDeadline(this.dependency.report(), STATS_DEADLINE_MS, 'stats of the dependency panel').catch((error) => ({ worker: this.worker, error: error.message }))
      : null
    const chain = this.backends.chain?.health() ?? []
    this.#noticeWriteBacks(chain)
    return {
      worker: this.worker,
      pid: process.pid,
      upstream: this.upstream.settings(),
      traffic: this.traffic.settings(),
      primaryMode: this.backends.primary.mode,
      chain: chain.map((b, i) => ({ ...b, mode: i === 0 ? this.backends.primary.mode : 'ok' })),
      circuits,
      hedging: this.hedging?.report() ?? null,
      dependency,
    }
  }

  async close() {
    this.traffic.stop()
    clearInterval(this.#drainTimer)
    await Promise.all(this.#circuits.map((c) => c.circuit.dispose().catch(() => {})))
    await this.hedging?.dispose().catch(() => {})
    await this.dependency?.dispose().catch(() => {})
    await this.telemetry?.close()
    await this.backends?.close()
  }

  async #circuitReport({ name, circuit, label, shared, storage }) {
    const base = { name, worker: this.worker, pid: process.pid, storage: label, backend: storage.name, scope: shared }
    const calls = this.traffic.tally(name)
    try {
      const s = await withDeadline(circuit.stats(), STATS_DEADLINE_MS, `stats of ${name}`)
      return { ...base, state: s.state, failures: s.failures, successes: s.successes, epoch: s.epoch, openedAt: s.openedAt, lastFailureAt: s.lastFailureAt, calls: { ...calls } }
    } catch (error) {
      return { ...base, state: circuit.state, failures: null, successes: null, epoch: null, openedAt: null, lastFailureAt: null, calls: { ...calls }, error: error.message }
    }
  }

  #targets() {
    const matrix = this.#circuits.map(({ name, circuit }) => ({ name, call: () => circuit.call((signal) => this.upstream.request(signal)) }))
    // The panels' calls record their own outcomes and never reject.
    const { hedging, dependency } = this
    return [
      ...matrix,
      ...(hedging ? [{ name: 'panel:hedged', call: () => hedging.request() }] : []),
      ...(dependency
        ? [
            { name: 'panel:payments', call: () => dependency.callPayments() },
            { name: 'panel:checkout', call: () => dependency.callCheckout() },
          ]
        : []),
    ]
  }

  #panel(what, build) {
    try {
      return build()
    } catch (error) {
      this.backends.skipped.push({ what, reason: error.message })
      return undefined
    }
  }

  /** The panel's lab, or a 503 naming why it is missing. */
  #lab(name) {
    const lab = this[name]
    if (!lab) throw Object.assign(new Error(`the ${name} panel is not available on worker ${this.worker} (see the startup output)`), { status: 503 })
    return lab
  }

  /** Acts on payments on this worker only; the shared storage carries it to the others. */
  async #payments(action) {
    const result = await this.#lab('dependency').act(action)
    const where = this.dependency.storage.scope === 'process' ? 'this worker only (no shared storage)' : `every worker through ${this.dependency.storage.label}`
    this.#emit({ kind: 'control', text: `${action} payments on worker ${this.worker}: ${result.state}, seen by ${where}` })
    return result
  }

  #find(name) {
    const found = this.#circuits.find((c) => c.name === name)
    if (!found) throw Object.assign(new Error(`no circuit named '${name}'`), { status: 404 })
    return found.circuit
  }

  async #circuitOp(name, op) {
    const circuit = this.#find(name)
    if (op === 'forceOpen') await circuit.forceOpen()
    else if (op === 'forceClose') await circuit.forceClose()
    else if (op === 'hardReset') await circuit.hardReset()
    else if (op === 'reset') await circuit.reset()
    else throw Object.assign(new Error(`unknown circuit operation '${op}'`), { status: 400 })
    return { circuit: name, worker: this.worker, state: circuit.state }
  }

  async #callOnce(name) {
    const circuit = this.#find(name)
    const t = this.traffic.tally(name)
    try {
      const value = await circuit.call((signal) => this.upstream.request(signal))
      t.ok++
      return { worker: this.worker, circuit: name, ok: true, value }
    } catch (error) {
      t.failed++
      return { worker: this.worker, circuit: name, ok: false, error: { name: error.name, code: error.code, message: error.message } }
    }
  }

  #setPrimary(mode) {
    const before = this.backends.primary.mode
    this.backends.primary.mode = mode
    // Back to ok: ask the chain to write back at once rather than wait for its next probe.
    if (mode === 'ok' && before !== 'ok') this.backends.chain?.writeBack().catch(() => {})
    return { worker: this.worker, mode }
  }

  #watchChain() {
    const chain = this.backends.chain
    if (!chain) return
    chain.on('fallback', (m) =>
      this.#emit({
        kind: 'fallback',
        circuit: m.circuit ?? null,
        backend: m.backend,
        nextBackend: m.nextBackend,
        operation: m.operation,
        errorClass: m.errorClass,
        errorMessage: m.errorMessage,
        durationMs: Math.round(m.durationMs * 10) / 10,
      }),
    )
    chain.on('backend_health', (m) =>
      this.#emit({ kind: 'health', backend: m.backend, backendIndex: m.backendIndex, healthy: m.healthy, consecutiveFailures: m.consecutiveFailures }),
    )
  }

  /** A backend that owed write-backs and owes none now has been written back: say so once. */
  #noticeWriteBacks(health) {
    for (const b of health) {
      const before = this.#owed.get(b.backendIndex) ?? 0
      if (before > 0 && b.owedWriteBacks === 0 && b.healthy) {
        this.#emit({ kind: 'writeback', backend: b.backend, backendIndex: b.backendIndex, circuits: before })
      }
      this.#owed.set(b.backendIndex, b.owedWriteBacks)
    }
  }

  #storageError(error, ctx) {
    // One per circuit every 2 s: a dead backend fails every call, the feed needs only the news.
    const now = Date.now()
    if (now - (this.#storageErrorAt.get(ctx.circuit) ?? 0) < 2_000) return
    this.#storageErrorAt.set(ctx.circuit, now)
    this.#emit({ kind: 'storage_error', circuit: ctx.circuit, operation: ctx.operation, backend: error.storage, errorMessage: error.message })
  }

  #emit(event) {
    const full = { at: Date.now(), worker: this.worker, ...event }
    for (const listener of this.#listeners) {
      try {
        listener(full)
      } catch {
        // A listener (an IPC channel that closed) must not break the circuit that emitted.
      }
    }
  }
}

function withDeadline(promise, ms, what) {
  let timer
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
