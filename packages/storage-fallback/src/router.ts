import { StorageError, andThen, isThenable } from '@breaker/core'
import type { MaybePromise, ProbeLease, StatusListener, StatusRecord, WindowCounts } from '@breaker/core'
import type { Backend, ResolvedOptions } from './config.js'
import { backendDeadline, guardLease } from './deadline.js'
import type { ChainEvents } from './events.js'
import { invoke } from './invoke.js'
import type { Operation } from './invoke.js'
import { ChainReporter } from './reporter.js'
import { WriteBackRunner } from './write-back-runner.js'
import { mergeOwed } from './write-back.js'

/** The chain's own `name`, used in events and errors that concern no single backend. */
export const CHAIN_NAME = 'fallback_chain'

/**
 * Walks the backends for one operation. Written as a loop that only turns into promise
 * continuations when a backend answers with a promise, so a chain of synchronous backends
 * answers synchronously: no promise, no timer, no clock read while everything is healthy.
 */
export class ChainRouter {
  /** Write-backs owed to backends that were away. */
  readonly writeBacks: WriteBackRunner
  /** The chain's subscribers, told of status writes answered by a stateless final backend. */
  readonly listeners = new Set<StatusListener>()
  /** Health bookkeeping and events. */
  readonly report: ChainReporter
  readonly now: () => number

  constructor(
    readonly backends: readonly Backend[],
    options: ResolvedOptions,
    readonly events: ChainEvents,
  ) {
    const clock = options.clock
    this.now = () => clock()
    this.report = new ChainReporter(backends, events, this.now)
    this.writeBacks = new WriteBackRunner(
      backends,
      options.maxWriteBack,
      (backend, op, circuit, a, b, c) => this.guarded(backend, op, circuit, a, b, c),
      {
        failed: (backend, error) => this.report.failed(backend, 'writeBack', undefined, error, -1),
        succeeded: (backend) => this.report.recovered(backend),
      },
      this.now,
    )
  }

  /** Runs `op` on the first backend that answers; `a`, `b`, `c` are the contract's arguments after the circuit. */
  route(op: Operation, circuit: string, a?: unknown, b?: unknown, c?: unknown): MaybePromise<unknown> {
    const started = this.events.timed ? performance.now() : -1
    return this.from(0, op, circuit, a, b, c, started, 0, undefined, -1)
  }

  // `bypassed` holds the indexes of the backends this operation failed on or skipped, as bits
  // (at most 31 backends): writes a lower backend takes are owed to each of them.
  private from(
    i: number,
    op: Operation,
    circuit: string,
    a: unknown,
    b: unknown,
    c: unknown,
    started: number,
    bypassed: number,
    lastError: unknown,
    lastIndex: number,
  ): MaybePromise<unknown> {
    for (; i < this.backends.length; i++) {
      const backend = this.backends[i]!
      if (backend.health.marked && backend.health.skip(this.now())) {
        this.report.skipped(backend, op, circuit)
        bypassed |= 1 << i
        continue
      }
      const t0 = started >= 0 ? performance.now() : -1
      let value: MaybePromise<unknown>
      try {
        value = this.attempt(backend, op, circuit, a, b, c)
      } catch (error) {
        this.report.failed(backend, op, circuit, error, t0)
        bypassed |= 1 << i
        lastError = error
        lastIndex = i
        continue
      }
      if (!isThenable(value)) return this.answered(backend, op, circuit, a, b, c, value, t0, started, bypassed)
      const index = i
      const missed = bypassed
      return value.then(
        (answer) => this.answered(backend, op, circuit, a, b, c, answer, t0, started, missed),
        (error: unknown) => {
          this.report.failed(backend, op, circuit, error, t0)
          return this.from(index + 1, op, circuit, a, b, c, started, missed | (1 << index), error, index)
        },
      )
    }
    return this.exhausted(op, circuit, started, lastError, lastIndex)
  }

  /** Runs `clear`/`clearAll` on every backend not skipped; succeeds when at least one answered. */
  broadcast(op: 'clear' | 'clearAll', circuit: string | undefined): MaybePromise<void> {
    const started = this.events.timed ? performance.now() : -1
    return this.broadcastFrom(0, op, circuit, started, -1, 0, undefined, -1)
  }

  private broadcastFrom(
    i: number,
    op: 'clear' | 'clearAll',
    circuit: string | undefined,
    started: number,
    answeredBy: number,
    missed: number,
    lastError: unknown,
    lastIndex: number,
  ): MaybePromise<void> {
    for (; i < this.backends.length; i++) {
      const backend = this.backends[i]!
      if (backend.health.marked && backend.health.skip(this.now())) {
        this.report.skipped(backend, op, circuit)
        missed |= 1 << i
        continue
      }
      const t0 = started >= 0 ? performance.now() : -1
      let value: MaybePromise<unknown>
      try {
        value = this.attempt(backend, op, circuit as string, undefined, undefined, undefined)
      } catch (error) {
        this.report.failed(backend, op, circuit, error, t0)
        missed |= 1 << i
        lastError = error
        lastIndex = i
        continue
      }
      if (isThenable(value)) {
        const index = i
        return value.then(
          () => {
            this.cleared(backend, op, circuit, t0)
            return this.broadcastFrom(index + 1, op, circuit, started, answeredBy < 0 ? index : answeredBy, missed, lastError, lastIndex)
          },
          (error: unknown) => {
            this.report.failed(backend, op, circuit, error, t0)
            return this.broadcastFrom(index + 1, op, circuit, started, answeredBy, missed | (1 << index), error, index)
          },
        )
      }
      this.cleared(backend, op, circuit, t0)
      if (answeredBy < 0) answeredBy = i
    }
    if (answeredBy < 0) return this.exhausted(op, circuit, started, lastError, lastIndex) as never
    // Backends that missed the clear would serve stale state when they come back: owe it to them.
    for (let index = 0; missed !== 0; index++, missed >>>= 1) {
      if ((missed & 1) === 0) continue
      if (op === 'clear') this.writeBacks.ledgers[index]!.noteClear(circuit as string, this.now())
      else this.writeBacks.ledgers[index]!.noteClearAll()
    }
    this.report.finished(op, circuit, answeredBy, started, true)
  }

  /**
   * One backend's try: first whatever it owes for this circuit from its time away (so it never
   * answers from stale state), then the operation itself, under the backend's deadline.
   *
   * A backend that has just failed gets the clears and the status but not the counts: it may
   * still apply an earlier write late, and sending the owed counts on every retry would add them
   * once per retry. Its first answer is merged with the counts it owes instead (`mergeOwed`), and
   * they follow in the background once it has answered.
   */
  private attempt(backend: Backend, op: Operation, circuit: string, a: unknown, b: unknown, c: unknown): MaybePromise<unknown> {
    const ledger = this.writeBacks.ledgers[backend.index]!
    if (op !== 'clearAll' && ledger.size !== 0 && ledger.owes(circuit)) {
      return andThen(this.writeBacks.flushBefore(backend, circuit), () => this.guarded(backend, op, circuit, a, b, c))
    }
    return this.guarded(backend, op, circuit, a, b, c)
  }

  /** Calls the backend; only a promise answer gets a deadline (and so a timer). */
  guarded(backend: Backend, op: Operation, circuit: string | undefined, a: unknown, b: unknown, c: unknown): MaybePromise<unknown> {
    const controller = backend.signalAware ? new AbortController() : undefined
    const value = invoke(backend, op, circuit as string, a, b, c, controller?.signal, this.now)
    if (!isThenable(value)) return value
    const target = { backend: backend.name, operation: op, circuit, timeoutMs: backend.timeoutMs }
    return backendDeadline(value, target, controller, this.lateWrite(backend, op, circuit, a))
  }

  /** A count write abandoned at its deadline that lands after all must not be written back again. */
  private lateWrite(backend: Backend, op: Operation, circuit: string | undefined, a: unknown): (() => void) | undefined {
    const counts = countsOf(op, a)
    if (counts === undefined || circuit === undefined) return undefined
    return () => this.writeBacks.ledgers[backend.index]!.unnoteCounts(circuit, counts.failures, counts.successes)
  }

  private answered(
    backend: Backend,
    op: Operation,
    circuit: string,
    a: unknown,
    b: unknown,
    c: unknown,
    value: unknown,
    t0: number,
    started: number,
    bypassed: number,
  ): unknown {
    this.report.answered(backend, op, circuit, t0)
    if (bypassed !== 0) this.noteMissed(bypassed, op, circuit, a, b, c, value)
    const ledger = this.writeBacks.ledgers[backend.index]!
    if (ledger.size !== 0) {
      value = mergeOwed(ledger, op, circuit, value)
      this.writeBacks.schedule(backend.index)
    }
    if (backend.stateless) {
      if (this.listeners.size !== 0) this.pushLocal(op, circuit, a, b, value)
    } else if (op === 'acquireProbe' && value !== null) {
      value = guardLease(backend, circuit, value as ProbeLease)
    }
    this.report.finished(op, circuit, backend.index, started, true)
    return value
  }

  /** Remembers, for every backend that was passed over, a write that a lower one took. */
  private noteMissed(bypassed: number, op: Operation, circuit: string, a: unknown, b: unknown, c: unknown, value: unknown): void {
    let status: StatusRecord | undefined
    if (op === 'setStatus') status = a as StatusRecord
    else if (op === 'compareAndSetStatus' && value === true) status = b as StatusRecord
    const counts = countsOf(op, a)
    if (status === undefined && counts === undefined) return
    const windowMs = op === 'record' ? (c as number) : op === 'recordBatch' ? (b as number) : 0
    for (let index = 0; bypassed !== 0; index++, bypassed >>>= 1) {
      if ((bypassed & 1) === 0) continue
      const ledger = this.writeBacks.ledgers[index]!
      if (status !== undefined) ledger.noteStatus(circuit, status)
      if (counts !== undefined) ledger.noteCounts(circuit, counts.failures, counts.successes, windowMs)
    }
  }

  /** A backend answered a broadcast `clear`/`clearAll`: it owes nothing more for what it cleared. */
  private cleared(backend: Backend, op: 'clear' | 'clearAll', circuit: string | undefined, t0: number): void {
    if (op === 'clear') this.writeBacks.ledgers[backend.index]!.forget(circuit as string)
    else this.writeBacks.ledgers[backend.index]!.reset()
    this.report.answered(backend, op, circuit, t0)
  }

  /** Status writes answered by a stateless final backend reach nobody else: push them ourselves. */
  private pushLocal(op: Operation, circuit: string, a: unknown, b: unknown, value: unknown): void {
    let record: StatusRecord
    if (op === 'setStatus') record = a as StatusRecord
    else if (op === 'compareAndSetStatus' && value === true) record = b as StatusRecord
    else return
    for (const listener of this.listeners) {
      try {
        listener({ circuit, record })
      } catch {
        // A subscriber's failure is its own; the write already happened.
      }
    }
  }

  /** No backend answered: the last failure surfaces, or, if every backend was skipped, a `StorageError` says so. */
  private exhausted(op: Operation, circuit: string | undefined, started: number, lastError: unknown, lastIndex: number): never {
    this.report.finished(op, circuit, -1, started, false)
    if (lastIndex >= 0) throw StorageError.from(lastError, this.backends[lastIndex]!.name, op, circuit)
    const until = this.backends.map((b) => `${b.name} until ${new Date(b.health.unhealthyUntil).toISOString()}`).join(', ')
    throw new StorageError(
      CHAIN_NAME,
      op,
      `[@breaker/storage-fallback] every backend is marked unhealthy and was skipped for ${op} (${until})`,
      { circuit },
    )
  }
}

/** Outcomes a count write carries, or `undefined` for any other operation. */
function countsOf(op: Operation, a: unknown): WindowCounts | undefined {
  switch (op) {
    case 'recordFailure':
      return FAILURE
    case 'recordSuccess':
      return SUCCESS
    case 'record':
      return a === 'failure' ? FAILURE : SUCCESS
    case 'recordBatch':
      return a as WindowCounts
    default:
      return undefined
  }
}
const FAILURE: WindowCounts = Object.freeze({ failures: 1, successes: 0 })
const SUCCESS: WindowCounts = Object.freeze({ failures: 0, successes: 1 })
