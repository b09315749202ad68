import { StorageError, andThen, isThenable } from '@breaker/core'
import { StatusListeners, toStorageError } from '@breaker/core/kit'
import type { MaybePromise, ProbeLease } from '@breaker/core'
import type { Backend, ResolvedOptions } from './config.js'
import { bounded, guardLease } from './deadline.js'
import type { ChainEvents } from './events.js'
import { ChainReporter } from './reporter.js'
import type { Route } from './routes.js'
import { withSignal } from './signal.js'
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
  /** The chain's subscribers: told of status writes answered by a stateless backend, and of switches. */
  readonly listeners = new StatusListeners()
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
    // The chain now reads from another backend than before: circuits must not trust what they cached.
    this.report = new ChainReporter(backends, events, this.now, () => this.listeners.resync())
    this.writeBacks = new WriteBackRunner(
      backends,
      options.maxWriteBack,
      (backend, route) => this.guarded(backend, route),
      {
        failed: (backend, ticket, seen, error) => this.report.failed(backend, ticket, seen, 'writeBack', undefined, error, -1),
        succeeded: (backend, ticket) => this.report.recovered(backend, ticket),
      },
      this.now,
    )
  }

  /** Runs `route` on the first backend that answers (on every one not skipped, for `clear`/`clearAll`). */
  route<T>(route: Route<T>): MaybePromise<T> {
    if (this.events.timed) route.started = performance.now()
    return this.walk(0, route)
  }

  private walk<T>(i: number, walk: Route<T>): MaybePromise<T> {
    for (; i < this.backends.length; i++) {
      const backend = this.backends[i]!
      if (this.passOver(backend, walk)) {
        walk.bypassed |= 1 << i
        continue
      }
      const health = backend.health
      const ticket = health.ticket()
      const seen = health.answers
      const t0 = walk.started >= 0 ? performance.now() : -1
      let value: MaybePromise<T>
      try {
        value = this.attempt(backend, walk)
      } catch (error) {
        this.failedOn(backend, ticket, seen, walk, error, t0)
        continue
      }
      if (!isThenable(value)) return this.answered(backend, ticket, walk, value, t0)
      return value.then(
        (answer) => {
          health.answers++
          return this.answered(backend, ticket, walk, answer, t0)
        },
        (error: unknown) => {
          this.failedOn(backend, ticket, seen, walk, error, t0)
          return this.walk(backend.index + 1, walk)
        },
      )
    }
    return this.end(walk)
  }

  /**
   * Whether the operation must pass a backend over: not `ready()` (a client still connecting),
   * which counts as nothing, or marked unhealthy and not yet due for a probe.
   */
  private passOver<T>(backend: Backend, route: Route<T>): boolean {
    const health = backend.health
    if (backend.hasReady) {
      const ready = backend.storage.ready!()
      if (ready !== health.ready) {
        health.ready = ready
        this.listeners.resync()
      }
      if (!ready) {
        this.report.skipped(backend, route.op, route.circuit)
        return true
      }
    }
    if (health.marked && health.skip(this.now())) {
      this.report.skipped(backend, route.op, route.circuit)
      return true
    }
    return false
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
  private attempt<T>(backend: Backend, route: Route<T>): MaybePromise<T> {
    const ledger = this.writeBacks.ledgers[backend.index]!
    if (route.op !== 'clearAll' && ledger.size !== 0 && ledger.owes(route.circuit!)) {
      return andThen(this.writeBacks.flushBefore(backend, route.circuit!), () => this.guarded(backend, route))
    }
    return this.guarded(backend, route)
  }

  /** Calls the backend; only a promise answer gets a deadline (and so a timer). */
  guarded<T>(backend: Backend, route: Route<T>): MaybePromise<T> {
    const controller = backend.signal ? new AbortController() : undefined
    const value = route.call(controller === undefined ? backend.storage : withSignal(backend.storage, controller.signal))
    if (!isThenable(value)) return value
    const source = { storage: backend.name, operation: route.op, circuit: route.circuit }
    return bounded(value, backend.timeoutMs, source, controller, this.lateWrite(backend, route))
  }

  /** A count write abandoned at its deadline that lands after all must not be written back again. */
  private lateWrite<T>(backend: Backend, route: Route<T>): (() => void) | undefined {
    const { counts, circuit } = route
    if (counts === undefined || circuit === undefined) return undefined
    return () => this.writeBacks.ledgers[backend.index]!.unnoteCounts(circuit, counts.failures, counts.successes)
  }

  private failedOn<T>(backend: Backend, ticket: number, seen: number, walk: Route<T>, error: unknown, t0: number): void {
    this.report.failed(backend, ticket, seen, walk.op, walk.circuit, error, t0)
    walk.bypassed |= 1 << backend.index
    walk.lastError = error
    walk.lastIndex = backend.index
  }

  /** A backend answered: the operation ends here, or (`clear`, `clearAll`) goes on to the next. */
  private answered<T>(backend: Backend, ticket: number, walk: Route<T>, value: T, t0: number): MaybePromise<T> {
    const route = walk
    this.report.answered(backend, ticket, route.op, route.circuit, t0)
    const ledger = this.writeBacks.ledgers[backend.index]!
    if (route.everywhere) {
      // It holds nothing more of what it cleared: nothing about it is owed any more.
      if (route.circuit === undefined) ledger.reset()
      else ledger.forget(route.circuit)
      if (walk.answeredBy < 0) walk.answeredBy = backend.index
      return this.walk(backend.index + 1, walk)
    }
    const circuit = route.circuit!
    if (walk.bypassed !== 0) this.noteMissed(walk, value)
    if (ledger.size !== 0) {
      value = mergeOwed(ledger, route.op, circuit, value) as T
      this.writeBacks.schedule(backend.index)
    }
    if (backend.stateless) {
      // Status writes that land on a backend keeping nothing reach no other instance: push them here.
      const record = this.listeners.size !== 0 ? route.wrote?.(value) : undefined
      if (record !== undefined) this.listeners.notify(circuit, record)
    } else if (route.op === 'acquireProbe' && value !== null) {
      value = guardLease(backend, circuit, value as ProbeLease) as T
    }
    this.report.finished(route.op, circuit, backend.index, walk.started, true)
    return value
  }

  /** Remembers, for every backend that was passed over, a write that a lower one took. */
  private noteMissed<T>(walk: Route<T>, value: T): void {
    const route = walk
    const status = route.wrote?.(value)
    const counts = route.counts
    if (status === undefined && counts === undefined) return
    const circuit = route.circuit!
    for (let index = 0, bits = walk.bypassed; bits !== 0; index++, bits >>>= 1) {
      if ((bits & 1) === 0) continue
      const ledger = this.writeBacks.ledgers[index]!
      if (status !== undefined) ledger.noteStatus(circuit, status)
      if (counts !== undefined) ledger.noteCounts(circuit, counts.failures, counts.successes, route.windowMs)
    }
  }

  /**
   * Every backend was tried or skipped. A `clear`/`clearAll` that at least one answered is done
   * (those that missed it are owed it); anything else surfaces the last failure, or, if every
   * backend was skipped, a `StorageError` that says so.
   */
  private end<T>(walk: Route<T>): T {
    const route = walk
    const started = walk.started
    if (route.everywhere && walk.answeredBy >= 0) {
      // Backends that missed the clear would serve stale state when they come back: owe it to them.
      for (let index = 0, bits = walk.bypassed; bits !== 0; index++, bits >>>= 1) {
        if ((bits & 1) === 0) continue
        if (route.circuit === undefined) this.writeBacks.ledgers[index]!.noteClearAll()
        else this.writeBacks.ledgers[index]!.noteClear(route.circuit, this.now())
      }
      this.report.finished(route.op, route.circuit, walk.answeredBy, started, true)
      return undefined as T
    }
    this.report.finished(route.op, route.circuit, -1, started, false)
    if (walk.lastIndex >= 0) {
      throw toStorageError(walk.lastError, { storage: this.backends[walk.lastIndex]!.name, operation: route.op, circuit: route.circuit })
    }
    const why = this.backends
      .map((b) => (b.health.ready ? `${b.name} until ${new Date(b.health.unhealthyUntil).toISOString()}` : `${b.name} not ready`))
      .join(', ')
    throw new StorageError(
      CHAIN_NAME,
      route.op,
      `[@breaker/storage-fallback] every backend was skipped for ${route.op}: marked unhealthy or not ready (${why})`,
      { circuit: route.circuit },
    )
  }
}
