import { StorageError, andThen, isThenable } from '@breaker/core'
import type { MaybePromise, StatusRecord } from '@breaker/core'
import type { Backend } from './config.js'
import type { Operation } from './invoke.js'
import { WriteBackLedger, flushCircuit } from './write-back.js'
import type { WriteBackTarget } from './write-back.js'

/** Calls one backend under its deadline (the router's `guarded`). */
export type GuardedCall = (
  backend: Backend,
  op: Operation,
  circuit: string | undefined,
  a: unknown,
  b: unknown,
  c: unknown,
) => MaybePromise<unknown>

/** Reports a write-back against the backend's health: failed with `error`, or succeeded. */
export interface HealthReport {
  failed(backend: Backend, error: unknown): void
  succeeded(backend: Backend): void
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
    this.flushing[index] = Promise.resolve()
      .then(() => this.flushAll(index))
      .then(
        () => {
          this.flushing[index] = undefined
        },
        (error: unknown) => {
          this.flushing[index] = undefined
          this.report.failed(this.backends[index]!, error)
        },
      )
  }

  /**
   * Writes back now everything owed to every backend not currently skipped (one whose skip
   * window has passed is tried, like any operation would); resolves when done, rejects with the
   * first failure (what failed stays owed).
   */
  async writeBack(): Promise<void> {
    let failure: unknown
    let failedOn: Backend | undefined
    for (const backend of this.backends) {
      const index = backend.index
      await this.flushing[index]
      if (this.ledgers[index]!.size === 0 || this.away(backend)) continue
      try {
        if (backend.health.consecutiveFailures !== 0) {
          // Proof of life first: once this read answers, writes it was given earlier and
          // abandoned have landed or never will, so the owed counts can be sent exactly once.
          const circuit = this.ledgers[index]!.entries.keys().next().value ?? ''
          await this.guarded(backend, 'getStatus', circuit, undefined, undefined, undefined)
          this.report.succeeded(backend)
        }
        await this.flushAll(index)
      } catch (error) {
        this.report.failed(backend, error)
        if (failedOn === undefined) {
          failure = error
          failedOn = backend
        }
      }
    }
    if (failedOn !== undefined) throw StorageError.from(failure, failedOn.name, 'writeBack')
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
    const cas = typeof backend.storage.compareAndSetStatus === 'function' && backend.storage.capabilities.cas
    const call = (op: Operation, circuit: string | undefined, a?: unknown, b?: unknown): MaybePromise<unknown> =>
      this.guarded(backend, op, circuit, a, b, undefined)
    return {
      clear: (circuit) => call('clear', circuit),
      clearAll: () => call('clearAll', undefined),
      getStatus: (circuit) => call('getStatus', circuit) as MaybePromise<StatusRecord | null>,
      putStatus: (circuit, expectedEpoch, record) =>
        cas
          ? (call('compareAndSetStatus', circuit, expectedEpoch, record) as MaybePromise<boolean>)
          : andThen(call('setStatus', circuit, record), () => true),
      recordBatch: (circuit, batch, windowMs) => call('recordBatch', circuit, batch, windowMs),
    }
  }
}
