/**
 * The hub aggregates every worker's node: it fans controls out to all of them, gathers their
 * reports into one view, keeps the latest events and pushes both to subscribers (the SSE
 * streams). In a single process it talks to the node directly; in a cluster the primary runs it
 * and talks to the workers over IPC. Either way a node is just `{ call(op, args) }`.
 */

/** Events kept for late subscribers and `GET /api/overview`. */
const EVENTS_KEPT = 300
/** A worker that does not answer within this long is reported as unreachable (ms). */
const NODE_DEADLINE_MS = 2_500

export class Hub {
  #nodes = new Map()
  #events = []
  #listeners = new Set()
  #seq = 0
  #timer
  #ticking = false
  /** What each worker wired, by worker id. */
  #wiring = new Map()
  /** Settings controls applied so far, replayed to a worker that joins later (a restarted one). */
  #applied = {}

  /** @param meta `{ workers, mode, otlp }`, shown as is in the overview. */
  constructor(meta) {
    this.meta = meta
  }

  /** Adds (or replaces) a worker's node: `handle.call(op, args)` answers a promise. */
  addNode(id, handle, wiring) {
    this.#nodes.set(id, handle)
    if (wiring) this.#wiring.set(id, wiring)
  }

  /** Brings a (re)started worker's settings in line with what the dashboard set. */
  async replay(handle) {
    for (const [op, args] of Object.entries(this.#applied)) await withDeadline(handle.call(op, args), NODE_DEADLINE_MS)
  }

  removeNode(id) {
    this.#nodes.delete(id)
    this.#wiring.delete(id)
  }

  get nodeCount() {
    return this.#nodes.size
  }

  /** Takes an event from a node, numbers it and passes it on. */
  ingest(event) {
    const numbered = { id: ++this.#seq, ...event }
    this.#events.push(numbered)
    if (this.#events.length > EVENTS_KEPT) this.#events.splice(0, this.#events.length - EVENTS_KEPT)
    this.#publish('event', numbered)
    return numbered
  }

  /** Listens to `('state', overview)` ticks and `('event', event)`; answers the unsubscribe. */
  subscribe(listener) {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Pushes a fresh overview to subscribers every `everyMs`, skipping a tick while one runs. */
  start(everyMs = 400) {
    this.#timer = setInterval(() => this.#tick(), everyMs)
  }

  stop() {
    clearInterval(this.#timer)
  }

  /** The latest events, oldest first. */
  events(limit = 100) {
    return this.#events.slice(-limit)
  }

  /** Every circuit of every worker, sorted by circuit name then worker. */
  async circuits() {
    return (await this.overview()).circuits
  }

  /** Everything the dashboard draws: workers, circuits, chains, settings, wiring, recent events. */
  async overview() {
    const reports = await this.#fanOut('report', {})
    const workers = []
    const circuits = []
    for (const r of reports) {
      if (!r.ok) {
        workers.push({ worker: r.id, error: r.error.message })
        continue
      }
      const { circuits: own, ...rest } = r.value
      workers.push(rest)
      circuits.push(...own)
    }
    circuits.sort((a, b) => (a.name === b.name ? a.worker - b.worker : a.name < b.name ? -1 : 1))
    workers.sort((a, b) => a.worker - b.worker)
    const first = workers.find((w) => !w.error)
    return {
      ...this.meta,
      at: Date.now(),
      settings: first ? { upstream: first.upstream, traffic: first.traffic, primaryMode: first.primaryMode } : null,
      wiring: Object.fromEntries(this.#wiring),
      workers,
      circuits,
      events: this.events(),
    }
  }

  /**
   * Runs one control on every worker. Answers `{ results }`, one per worker; throws (with the
   * first error's `status`) only when every worker refused.
   */
  async control(op, args, describe) {
    const results = await this.#fanOut(op, args)
    const failed = results.filter((r) => !r.ok)
    if (results.length > 0 && failed.length === results.length) throw failed[0].error
    if (['upstream', 'traffic', 'primary', 'hedging'].includes(op)) this.#applied[op] = { ...this.#applied[op], ...args }
    if (describe) this.ingest({ at: Date.now(), worker: null, kind: 'control', text: describe })
    this.#tick()
    return { results: results.map((r) => (r.ok ? { worker: r.id, ok: true, value: r.value } : { worker: r.id, ok: false, error: r.error.message })) }
  }

  /** Every worker's registry snapshot in one JSON document. */
  async exportSnapshot() {
    const results = await this.#fanOut('export', {})
    const failed = results.find((r) => !r.ok)
    if (failed) throw Object.assign(new Error(`worker ${failed.id} could not export: ${failed.error.message}`), { status: 503 })
    return {
      format: 'breaker-demo-snapshot',
      version: 1,
      exportedAt: Date.now(),
      workers: results.map((r) => ({ worker: r.id, snapshot: r.value })),
    }
  }

  /**
   * Imports a demo snapshot (each worker gets its own entry, or the first one when the snapshot
   * came from fewer workers) or a bare `registry.exportAll()` snapshot (every worker gets it).
   * Core validates the snapshot itself; its `ConfigurationError` becomes a 400.
   */
  async importSnapshot(body) {
    const entries = Array.isArray(body?.workers) ? body.workers : null
    const pick = (id) => {
      if (!entries) return body
      return (entries.find((e) => e?.worker === id) ?? entries[0])?.snapshot
    }
    const results = await Promise.all(
      [...this.#nodes].map(async ([id, handle]) => {
        try {
          return { worker: id, ok: true, value: await withDeadline(handle.call('import', { snapshot: pick(id) }), NODE_DEADLINE_MS) }
        } catch (error) {
          return { worker: id, ok: false, error }
        }
      }),
    )
    const failed = results.find((r) => !r.ok)
    if (failed) throw Object.assign(new Error(failed.error.message), { status: failed.error.status ?? 400 })
    this.ingest({ at: Date.now(), worker: null, kind: 'control', text: 'imported a state snapshot' })
    return { results: results.map(({ worker, value }) => ({ worker, ...value })) }
  }

  async #fanOut(op, args) {
    return Promise.all(
      [...this.#nodes].map(async ([id, handle]) => {
        try {
          return { id, ok: true, value: await withDeadline(handle.call(op, args), NODE_DEADLINE_MS) }
        } catch (error) {
          return { id, ok: false, error }
        }
      }),
    )
  }

  async #tick() {
    if (this.#ticking || this.#listeners.size === 0) return
    this.#ticking = true
    try {
      const { events, ...state } = await this.overview()
      this.#publish('state', state)
    } catch {
      // The next tick tries again; a failed overview only means a stale dashboard for 400 ms.
    } finally {
      this.#ticking = false
    }
  }

  #publish(type, data) {
    for (const listener of this.#listeners) {
      try {
        listener(type, data)
      } catch {
        // A subscriber that throws (a closed stream) must not stop the others.
      }
    }
  }
}

export function withDeadline(promise, ms) {
  let timer
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { status: 504 })), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
