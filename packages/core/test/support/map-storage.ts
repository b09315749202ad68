import type {
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  Storage,
  StorageCapabilities,
  WindowCounts,
} from '../../src/index.js'

/** Options of the in-test storage. */
export interface MapStorageOptions {
  clock: () => number
  /** Answer every method with a promise (like a networked backend). */
  async?: boolean
  cas?: boolean
  leases?: boolean
  subscribe?: boolean
  scope?: StorageCapabilities['scope']
  maxNameBytes?: number
}

/**
 * A small exact storage for core's own tests (core cannot depend on the storage packages).
 * It can answer asynchronously, and `failWith` makes every method throw, to test fail-open.
 */
export class MapStorage implements Storage {
  readonly name = 'map'
  readonly capabilities: StorageCapabilities
  readonly statuses = new Map<string, StatusRecord>()
  readonly events = new Map<string, { at: number; outcome: Outcome }[]>()
  readonly leases = new Map<string, { id: number; expiresAt: number }[]>()
  readonly listeners = new Set<StatusListener>()
  /** Every contract call, by method name. */
  readonly calls: string[] = []
  failWith: Error | undefined
  /** Per-method faults: `throw` refuses the call, `hang` answers a promise that never settles. */
  readonly faults = new Map<string, 'throw' | 'hang'>()
  #nextLease = 0

  constructor(readonly options: MapStorageOptions) {
    this.capabilities = {
      scope: options.scope ?? 'process',
      atomic: true,
      cas: options.cas ?? true,
      leases: options.leases ?? false,
      subscribe: options.subscribe ?? false,
      ...(options.maxNameBytes !== undefined ? { maxNameBytes: options.maxNameBytes } : {}),
    }
    if (!this.capabilities.cas) delete (this as Partial<MapStorage>).compareAndSetStatus
    if (!this.capabilities.leases) delete (this as Partial<MapStorage>).acquireProbe
  }

  #answer<T>(method: string, fn: () => T): any {
    this.calls.push(method)
    const fault = this.faults.get(method)
    if (fault === 'hang') return new Promise(() => {})
    if (fault === 'throw') throw new Error(`${method} refused (read-only user)`)
    if (this.options.async) {
      return Promise.resolve().then(() => {
        if (this.failWith) throw this.failWith
        return fn()
      })
    }
    if (this.failWith) throw this.failWith
    return fn()
  }

  /** While true, status writes are not pushed to subscribers (a subscriber that lost its connection). */
  mutePushes = false

  #write(circuit: string, record: StatusRecord) {
    this.statuses.set(circuit, record)
    if (!this.mutePushes) for (const l of this.listeners) l({ circuit, record })
  }

  /** Sends every subscriber a resync notice (a subscriber that reconnected). */
  resync() {
    for (const l of this.listeners) l({ resync: true })
  }

  #count(circuit: string, outcome: Outcome, windowMs: number) {
    const from = this.options.clock() - windowMs
    return (this.events.get(circuit) ?? []).filter((e) => e.outcome === outcome && e.at >= from).length
  }

  #push(circuit: string, outcome: Outcome) {
    const list = this.events.get(circuit) ?? []
    list.push({ at: this.options.clock(), outcome })
    this.events.set(circuit, list)
  }

  getStatus(circuit: string) {
    return this.#answer('getStatus', () => this.statuses.get(circuit) ?? null)
  }
  setStatus(circuit: string, record: StatusRecord) {
    return this.#answer('setStatus', () => this.#write(circuit, record))
  }
  compareAndSetStatus(circuit: string, expectedEpoch: number, record: StatusRecord) {
    return this.#answer('compareAndSetStatus', () => {
      if ((this.statuses.get(circuit)?.epoch ?? 0) !== expectedEpoch) return false
      this.#write(circuit, record)
      return true
    })
  }
  recordSuccess(circuit: string, _d: number) {
    return this.#answer('recordSuccess', () => this.#push(circuit, 'success'))
  }
  recordFailure(circuit: string, _d: number) {
    return this.#answer('recordFailure', () => this.#push(circuit, 'failure'))
  }
  successCount(circuit: string, windowMs: number) {
    return this.#answer('successCount', () => this.#count(circuit, 'success', windowMs))
  }
  failureCount(circuit: string, windowMs: number) {
    return this.#answer('failureCount', () => this.#count(circuit, 'failure', windowMs))
  }
  record(circuit: string, outcome: Outcome, _d: number, windowMs: number) {
    return this.#answer('record', (): WindowCounts => {
      this.#push(circuit, outcome)
      return { failures: this.#count(circuit, 'failure', windowMs), successes: this.#count(circuit, 'success', windowMs) }
    })
  }
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number) {
    return this.#answer('recordBatch', (): WindowCounts => {
      for (let i = 0; i < batch.failures; i++) this.#push(circuit, 'failure')
      for (let i = 0; i < batch.successes; i++) this.#push(circuit, 'success')
      return { failures: this.#count(circuit, 'failure', windowMs), successes: this.#count(circuit, 'success', windowMs) }
    })
  }
  acquireProbe(circuit: string, max: number, ttlMs: number) {
    return this.#answer('acquireProbe', (): ProbeLease | null => {
      const now = this.options.clock()
      const held = (this.leases.get(circuit) ?? []).filter((l) => l.expiresAt > now)
      this.leases.set(circuit, held)
      if (held.length >= max) return null
      const lease = { id: ++this.#nextLease, expiresAt: now + ttlMs }
      held.push(lease)
      return {
        id: String(lease.id),
        expiresAt: lease.expiresAt,
        release: () => {
          const list = this.leases.get(circuit) ?? []
          this.leases.set(circuit, list.filter((l) => l !== lease))
        },
      }
    })
  }
  subscribe(listener: StatusListener) {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }
  /** Names retained by live circuits, counted. */
  readonly retained = new Map<string, number>()
  retain(circuit: string) {
    this.retained.set(circuit, (this.retained.get(circuit) ?? 0) + 1)
    return () => {
      const left = (this.retained.get(circuit) ?? 1) - 1
      if (left > 0) this.retained.set(circuit, left)
      else this.retained.delete(circuit)
    }
  }
  clear(circuit: string) {
    return this.#answer('clear', () => {
      this.statuses.delete(circuit)
      this.events.delete(circuit)
      this.leases.delete(circuit)
    })
  }
  clearAll() {
    return this.#answer('clearAll', () => {
      this.statuses.clear()
      this.events.clear()
      this.leases.clear()
    })
  }
}
