import { StorageError, isThenable } from '@breaker/core'
import type {
  EventLogEntry,
  MaybePromise,
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  Storage,
  StorageCapabilities,
  WindowCounts,
} from '@breaker/core'
import { chainCapabilities } from './capabilities.js'
import { resolveChain } from './config.js'
import type { Backend } from './config.js'
import { ChainEvents } from './events.js'
import type { ChainDefinition, FallbackChainEventName, FallbackChainListener, FallbackChainOptions } from './options.js'
import { CHAIN_NAME, ChainRouter } from './router.js'
import { routes } from './routes.js'
import type { WriteBackResult } from './write-back-runner.js'

/** Health of one backend as the chain sees it. */
export interface BackendHealthSnapshot {
  /** Backend name. */
  readonly backend: string
  /** Position in the chain, 0 = primary. */
  readonly backendIndex: number
  /** False while the backend is skipped or on probation. */
  readonly healthy: boolean
  /** Failures in a row. */
  readonly consecutiveFailures: number
  /** Until when it is skipped (epoch ms), or `null` when healthy. */
  readonly unhealthyUntil: number | null
  /** Circuits whose state this backend missed and will be written back to it. */
  readonly owedWriteBacks: number
  /** Circuits dropped from write-back because more than `maxWriteBack` were owed at once. */
  readonly droppedWriteBacks: number
}

/**
 * A storage made of ordered backends: each operation goes to the first that answers within its
 * deadline. A backend that fails `unhealthyAfter` times in a row is skipped, and probed again
 * after `recoverAfter` ms (doubling after each failed probe, up to `unhealthyFor`); one that is
 * not `ready()` is skipped without counting. What lower backends learned while a higher one was away is written back to it when it
 * answers again, the newest transition winning, so a trip during an outage is not forgotten.
 *
 * ```ts
 * const storage = new FallbackChainStorage([
 *   { storage: redis, timeout: 5 },
 *   { storage: new MemoryStorage(), timeout: 2 },
 *   { storage: new NullStorage(), timeout: 1 },
 * ])
 * ```
 *
 * @throws ConfigurationError for an empty chain, an entry without a storage, a timeout that is
 *   not a positive number of ms, or a chain function answering anything but a non-empty array.
 */
export class FallbackChainStorage implements Storage {
  /** `'fallback_chain'`, the name the Ruby gem BreakerMachines gives this storage. */
  readonly name = CHAIN_NAME
  /** What the backends honour together (see README, "Capabilities"). */
  readonly capabilities: StorageCapabilities
  /** CAS on the first backend that answers; offered when every stateful backend offers it. */
  readonly compareAndSetStatus?: (circuit: string, expectedEpoch: number, record: StatusRecord) => MaybePromise<boolean>
  /** A probe permit from the first backend that answers; offered when every stateful backend offers leases. */
  readonly acquireProbe?: (circuit: string, max: number, ttlMs: number) => MaybePromise<ProbeLease | null>
  /** Subscribes to every backend; offered when every stateful backend can push. */
  readonly subscribe?: (listener: StatusListener) => () => void
  /**
   * Tells every backend that has `retain` that a circuit uses this name; answers the function
   * that releases it on all of them. Offered when any backend has `retain`.
   */
  readonly retain?: (circuit: string) => () => void
  /** The event log of the first backend that answers; offered when every stateful backend keeps one. */
  readonly eventLog?: (circuit: string, limit: number) => MaybePromise<EventLogEntry[]>

  private readonly backends: readonly Backend[]
  private readonly router: ChainRouter
  private readonly events = new ChainEvents()

  /**
   * @param backends The chain: `[{ storage, timeout }, …]`, `{ primary, fallback, final }`
   *   (insertion order), or `({ timeout }) => [...]`, called once with the `timeout` option.
   */
  constructor(backends: ChainDefinition, options: FallbackChainOptions = {}) {
    const resolved = resolveChain(backends, options)
    this.backends = resolved.backends
    this.router = new ChainRouter(this.backends, resolved.options, this.events)
    this.capabilities = chainCapabilities(this.backends)
    const router = this.router
    const capabilities = this.capabilities
    if (capabilities.cas) {
      this.compareAndSetStatus = (circuit, expectedEpoch, record) => router.route(routes.compareAndSetStatus(circuit, expectedEpoch, record))
    }
    if (capabilities.leases) {
      this.acquireProbe = (circuit, max, ttlMs) => router.route(routes.acquireProbe(circuit, max, ttlMs, router.now))
    }
    if (capabilities.subscribe) this.subscribe = (listener) => this.subscribeAll(listener)
    const retaining = this.backends.filter(({ storage }) => typeof storage.retain === 'function')
    if (retaining.length !== 0) this.retain = (circuit) => retainAll(retaining, circuit)
    if (capabilities.eventLog === true) this.eventLog = (circuit, limit) => router.route(routes.eventLog(circuit, limit))
  }

  /** The status from the first backend that answers. */
  getStatus(circuit: string): MaybePromise<StatusRecord | null> {
    return this.router.route(routes.getStatus(circuit))
  }
  /** Writes the status to the first backend that answers. */
  setStatus(circuit: string, record: StatusRecord): MaybePromise<void> {
    return this.router.route(routes.setStatus(circuit, record))
  }
  /** Counts one success (`durationMs`, ms) on the first backend that answers. */
  recordSuccess(circuit: string, durationMs: number): MaybePromise<void> {
    return this.router.route(routes.recordSuccess(circuit, durationMs))
  }
  /** Counts one failure (`durationMs`, ms) on the first backend that answers. */
  recordFailure(circuit: string, durationMs: number): MaybePromise<void> {
    return this.router.route(routes.recordFailure(circuit, durationMs))
  }
  /** Successes in the last `windowMs` ms, from the first backend that answers. */
  successCount(circuit: string, windowMs: number): MaybePromise<number> {
    return this.router.route(routes.successCount(circuit, windowMs))
  }
  /** Failures in the last `windowMs` ms, from the first backend that answers. */
  failureCount(circuit: string, windowMs: number): MaybePromise<number> {
    return this.router.route(routes.failureCount(circuit, windowMs))
  }
  /** Counts one outcome and answers the window's counts, on one backend (emulated where it lacks `record`). */
  record(circuit: string, outcome: Outcome, durationMs: number, windowMs: number): MaybePromise<WindowCounts> {
    return this.router.route(routes.record(circuit, outcome, durationMs, windowMs))
  }
  /** Counts a batch and answers the window's counts, on one backend (emulated where it lacks `recordBatch`). */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): MaybePromise<WindowCounts> {
    return this.router.route(routes.recordBatch(circuit, batch, windowMs))
  }
  /**
   * Forgets the circuit on every backend not skipped, so none can serve it stale later; one
   * that missed it is cleared when it answers again. Fails only when no backend answered.
   */
  clear(circuit: string): MaybePromise<void> {
    return this.router.route(routes.clear(circuit))
  }
  /** Forgets every circuit on every backend not skipped (see `clear`). */
  clearAll(): MaybePromise<void> {
    return this.router.route(routes.clearAll())
  }

  /**
   * The gem's `cleanup!`: clears every backend, skipped ones included, forgets every owed
   * write-back and marks every backend healthy.
   * @throws StorageError naming every backend whose `clearAll` failed (after trying them all).
   */
  cleanup(): MaybePromise<void> {
    const failures: Array<[Backend, unknown]> = []
    const finish = (): void => {
      for (const backend of this.backends) {
        const wasMarked = backend.health.marked
        backend.health.reset()
        this.router.writeBacks.ledgers[backend.index]!.reset()
        if (wasMarked && this.events.wants('backend_health')) this.router.report.healthy(backend)
      }
      // Every backend is in play again: circuits re-read from whichever answers first now.
      this.router.listeners.resync()
      if (failures.length === 0) return
      const detail = failures.map(([b, e]) => `${b.name}: ${e instanceof Error ? e.message : String(e)}`).join('; ')
      throw new StorageError(CHAIN_NAME, 'cleanup', `[@breaker/storage-fallback] cleanup failed on ${detail}`, {
        cause: failures[0]![1],
      })
    }
    const step = (k: number): MaybePromise<void> => {
      for (; k < this.backends.length; k++) {
        const backend = this.backends[k]!
        let value: MaybePromise<unknown>
        try {
          value = this.router.guarded(backend, routes.clearAll())
        } catch (error) {
          failures.push([backend, error])
          continue
        }
        if (isThenable(value)) {
          const next = k + 1
          return value.then(
            () => step(next),
            (error: unknown) => {
              failures.push([backend, error])
              return step(next)
            },
          )
        }
      }
      return finish()
    }
    return step(0)
  }

  /**
   * Listens to a chain event; answers the function that removes the listener. The same
   * messages are published on the diagnostics channel `breaker:storage:<event>`.
   */
  on<E extends FallbackChainEventName>(event: E, listener: FallbackChainListener<E>): () => void {
    return this.events.on(event, listener)
  }

  /**
   * Writes back now whatever any backend missed while it was away. A backend marked unhealthy
   * is tried anyway (a read first): if it answers, it gets what it owes and the chain uses it
   * again at once. Only a backend whose `ready()` says no is left alone. The chain writes back
   * on its own when a backend answers again; call this before shutting down, to wait for it,
   * or to bring a recovered primary back without waiting for the next probe.
   * @returns What was done for each backend, in chain order.
   * @throws StorageError when a backend it tried failed, naming it and what it still owes (that stays owed).
   */
  writeBack(): Promise<WriteBackResult[]> {
    return this.router.writeBacks.writeBack()
  }

  /** Health and owed write-backs of every backend, in chain order. */
  health(): BackendHealthSnapshot[] {
    return this.backends.map((backend) => ({
      backend: backend.name,
      backendIndex: backend.index,
      healthy: !backend.health.marked,
      consecutiveFailures: backend.health.consecutiveFailures,
      unhealthyUntil: backend.health.marked ? backend.health.unhealthyUntil : null,
      owedWriteBacks: this.router.writeBacks.ledgers[backend.index]!.size,
      droppedWriteBacks: this.router.writeBacks.ledgers[backend.index]!.dropped,
    }))
  }

  /**
   * Waits for background write-backs in flight. Backends are the caller's: the chain does not
   * close them, since they may be shared with other chains or used directly.
   */
  async close(): Promise<void> {
    await this.router.writeBacks.settled()
  }

  /**
   * Forwards what every backend that can push delivers, resync notices included; adds the
   * chain's own notices: status writes that landed on a stateless backend, and a resync whenever
   * the chain starts or stops reading from a backend (marked unhealthy, rejoined, (not) ready).
   */
  private subscribeAll(listener: StatusListener): () => void {
    const offs = this.backends.flatMap(({ storage }) => (storage.subscribe ? [storage.subscribe(listener)] : []))
    // A wrapper per subscription, so subscribing one function twice gives two independent handles.
    const off = this.router.listeners.add((notice) => listener(notice))
    return () => {
      off()
      for (const unsubscribe of offs) unsubscribe()
    }
  }
}

// Any backend may serve the circuit, so each one that releases idle names must know it is in use.
// A backend whose retain (or release) throws is left out: that is bookkeeping, and it must not
// break constructing or disposing a circuit on the others.
function retainAll(backends: readonly Backend[], circuit: string): () => void {
  const releases: Array<() => void> = []
  for (const { storage } of backends) {
    try {
      releases.push(storage.retain!(circuit))
    } catch {
      // See above: the other backends still know.
    }
  }
  let released = false
  return () => {
    if (released) return
    released = true
    for (const release of releases) {
      try {
        release()
      } catch {
        // See above.
      }
    }
  }
}
