import { StorageError, andThen, isThenable } from '@breaker/core'
import type { MaybePromise } from '@breaker/core'
import type { Backend } from './config.js'
import { routes } from './routes.js'
import type { Route } from './routes.js'
import { WriteBackLedger, flushCircuit } from './write-back.js'
import type { WriteBackTarget } from './write-back.js'

/** Calls one backend under its deadline (the router's `guarded`). */
export type GuardedCall = <T>(backend: Backend, route: Route<T>) => MaybePromise<T>

/** Reports a write-back attempt (`ticket` and `seen`, see `BackendHealth`) against the backend's health. */
export interface HealthReport {
  failed(backend: Backend, ticket: number, seen: number, error: unknown): void
  succeeded(backend: Backend, ticket: number): void
}

/** What `writeBack()` did with one backend. */
export interface WriteBackResult {
  /** Backend name. */
  readonly backend: string
  /** Position in the chain, 0 = primary. */
  readonly backendIndex: number
  /**
   * `'written'`: it was tried and everything it owed was written back; `'nothing_owed'`: it owed
   * nothing (and, if it was marked unhealthy, it was tried anyway); `'not_ready'`: its `ready()`
   * said no, so it was not tried; `'failed'`: it was tried and failed (the call rejects).
   */
  readonly outcome: 'written' | 'nothing_owed' | 'not_ready' | 'failed'
  /** Circuits written back to it by this call. */
  readonly written: number
  /** Circuits it still owes afterwards. */
  readonly owed: number
  /** It was marked unhealthy and answered this call's try: the chain uses it again. */
  readonly rejoined: boolean
}

/**
 * Owns the write-back ledgers of a chain and runs the write-backs: per circuit just before a
 * backend serves that circuit again, and for every owed circuit in the background once the
 * backend has answered anything.
 */
export class WriteBackRunner {
  /** Per backend: what it missed while it was failing or skipped. */
  readonly ledgers: WriteBackLedger[]
  private readonly targets: WriteBackTarget[]
  private readonly flushing: Array<Promise<void> | undefined>

  constructor(
    private readonly backends: readonly Backend[],
    maxWriteBack: number,
    private readonly guarded: GuardedCall,
    private readonly report: HealthReport,
    private readonly now: () => number,
  ) {
    this.ledgers = backends.map(() => new WriteBackLedger(maxWriteBack))
    this.targets = backends.map((backend) => this.targetFor(backend))
    this.flushing = backends.map(() => undefined)
  }

  /**
   * Writes back what `backend` owes for `circuit`, so it never answers from state it missed;
   * the counts only when its last call succeeded (see `flushCircuit`).
   */
  flushBefore(backend: Backend, circuit: string): MaybePromise<void> {
    const withCounts = backend.health.consecutiveFailures === 0
    return flushCircuit(this.ledgers[backend.index]!, circuit, this.targets[backend.index]!, withCounts)
  }

  /**
   * A backend that owes write-backs just answered: write back every circuit it missed, after
   * the current operation has returned, one circuit at a time. A failure stops it (what is left
   * stays owed) and counts against the backend's health like any failed operation.
   */
  schedule(index: number): void {
    if (this.flushing[index] !== undefined) return
    const backend = this.backends[index]!
    const ticket = backend.health.ticket()
    const seen = backend.health.answers
    this.flushing[index] = Promise.resolve()
      .then(() => this.flushAll(index))
      .then(
        () => {
          this.flushing[index] = undefined
        },
        (error: unknown) => {
          this.flushing[index] = undefined
          this.report.failed(backend, ticket, seen, error)
        },
      )
  }

  /**
   * Writes back now everything owed, to every backend that is ready — marked unhealthy or not:
   * one that is marked is tried (a read first), and rejoins the chain if it answers. Resolves
   * with what it did for each backend, in chain order; rejects when a backend it tried failed
   * (what failed stays owed), saying which and what is still owed.
   */
  async writeBack(): Promise<WriteBackResult[]> {
    const results: WriteBackResult[] = []
    const failures: Array<[Backend, unknown, number]> = []
    for (const backend of this.backends) {
      const index = backend.index
      await this.flushing[index]
      const ledger = this.ledgers[index]!
      const owed = ledger.size
      const health = backend.health
      const result = { backend: backend.name, backendIndex: index, written: 0, owed, rejoined: false }
      if (owed === 0 && !health.marked) {
        results.push({ ...result, outcome: 'nothing_owed' })
        continue
      }
      if (backend.hasReady && !backend.storage.ready!()) {
        results.push({ ...result, outcome: 'not_ready' })
        continue
      }
      const ticket = health.ticket()
      const seen = health.answers
      const wasMarked = health.marked
      try {
        if (health.consecutiveFailures !== 0 || wasMarked) {
          // Proof of life first: once this read answers, writes it was given earlier and
          // abandoned have landed or never will, so the owed counts can be sent exactly once.
          const circuit = ledger.entries.keys().next().value ?? ''
          await this.guarded(backend, routes.getStatus(circuit))
          this.report.succeeded(backend, ticket)
        }
        await this.flushAll(index)
        const rejoined = wasMarked && !health.marked
        results.push({ ...result, outcome: owed === 0 ? 'nothing_owed' : 'written', written: owed - ledger.size, owed: ledger.size, rejoined })
      } catch (error) {
        this.report.failed(backend, ticket, seen, error)
        results.push({ ...result, outcome: 'failed', written: owed - ledger.size, owed: ledger.size })
        failures.push([backend, error, ledger.size])
      }
    }
    if (failures.length === 0) return results
    const detail = failures
      .map(([b, e, left]) => `${b.name} (${left} still owed): ${e instanceof Error ? e.message : String(e)}`)
      .join('; ')
    throw new StorageError(failures[0]![0].name, 'writeBack', `[@breaker/storage-fallback] write-back failed on ${detail}`, {
      cause: failures[0]![1],
    })
  }

  /** Resolves once no background write-back is in flight. */
  async settled(): Promise<void> {
    while (this.flushing.some((flushing) => flushing !== undefined)) {
      await Promise.all(this.flushing)
    }
  }

  private flushAll(index: number): MaybePromise<void> {
    const backend = this.backends[index]!
    const ledger = this.ledgers[index]!
    const target = this.targets[index]!
    const circuits = [...ledger.entries.keys()]
    let k = 0
    const next = (): MaybePromise<void> => {
      while (k < circuits.length) {
        // Gone again: stop here; the rest stays owed until it answers once more.
        if (this.away(backend)) return
        const flushed = flushCircuit(ledger, circuits[k++]!, target, backend.health.consecutiveFailures === 0)
        if (isThenable(flushed)) return flushed.then(next)
      }
    }
    const pre = ledger.clearAll ? andThen(target.clearAll(), () => void (ledger.clearAll = false)) : undefined
    return andThen(pre, next)
  }

  /** Inside its skip window: not to be bothered. */
  private away(backend: Backend): boolean {
    return backend.health.marked && this.now() < backend.health.unhealthyUntil
  }

  /** The calls a write-back makes on `backend`, each under its deadline. */
  private targetFor(backend: Backend): WriteBackTarget {
    const cas = backend.storage.capabilities.cas
    const guarded = this.guarded
    return {
      clear: (circuit) => guarded(backend, routes.clear(circuit)),
      clearAll: () => guarded(backend, routes.clearAll()),
      getStatus: (circuit) => guarded(backend, routes.getStatus(circuit)),
      putStatus: (circuit, expectedEpoch, record) =>
        cas
          ? guarded(backend, routes.compareAndSetStatus(circuit, expectedEpoch, record))
          : andThen(guarded(backend, routes.setStatus(circuit, record)), () => true),
      recordBatch: (circuit, batch, windowMs) => guarded(backend, routes.recordBatch(circuit, batch, windowMs)),
    }
  }
}
