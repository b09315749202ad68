import { channels } from './channels.js'
import type { CallContext, CallOutcome } from './channels.js'
import { assertStorage, configToJSON, resolveConfig } from './config.js'
import type { CircuitConfig } from './config.js'
import { CircuitBulkheadError, CircuitOpenError, isCircuitTimeoutError } from './errors.js'
import { runFallback } from './fallback.js'
import { HookRunner } from './hooks.js'
import { isThenable } from './maybe.js'
import type { CircuitOptions } from './options.js'
import { OutcomeRecorder } from './outcomes.js'
import type { CircuitStats } from './outcomes.js'
import { PendingWrites } from './pending.js'
import { ProbePermits } from './probes.js'
import type { Permit } from './probes.js'
import { defaultRegistry } from './registry.js'
import type { Registry } from './registry.js'
import { SharedStatus } from './shared-status.js'
import type { SyncInput } from './shared-status.js'
import { readSnapshotEntry } from './snapshot.js'
import type { CircuitSnapshot } from './snapshot.js'
import type { Storage } from './storage.js'
import { listen } from './subscriptions.js'
import { runWithTimeout } from './timeout.js'
import type { CircuitState, StatusRecord } from './types.js'

export type { CircuitStats, SyncInput }

const NEVER_ABORTED = new AbortController().signal
const NO_OP = () => {}

/**
 * A circuit breaker whose state lives in a `Storage`, so every instance sharing that storage
 * sees the same circuit. Open → half_open happens lazily on the next call; there are no timers
 * per circuit. On in-process storage the whole path runs without an `await`.
 */
export class Circuit {
  /** The circuit's name, unique within its registry. */
  readonly name: string
  readonly #config: CircuitConfig
  readonly #registry: Registry | undefined
  readonly #shared: SharedStatus
  readonly #outcomes: OutcomeRecorder
  readonly #pending = new PendingWrites()
  readonly #permits: ProbePermits
  #inFlight = 0
  #unlisten: () => void

  /** @throws ConfigurationError naming the option and the value received. */
  constructor(name: string, options: CircuitOptions = {}) {
    this.#config = resolveConfig(name, options)
    this.name = name
    const registry = options.registry === undefined ? defaultRegistry : options.registry || undefined
    const storage = options.storage ?? registry?.defaultStorage ?? defaultRegistry.defaultStorage
    assertStorage(storage)
    this.#shared = new SharedStatus(name, this.#config, new HookRunner(name, this.#config.on), storage)
    this.#outcomes = new OutcomeRecorder(this.#shared, this.#pending)
    this.#permits = new ProbePermits(this.#shared, this.#pending)
    this.#unlisten = this.#listen(storage)
    registry?.register(this)
    this.#registry = registry
  }

  /** Last known state, without asking storage. */
  get state(): CircuitState {
    return this.#shared.current.status
  }

  /** The storage this circuit uses now. */
  get storage(): Storage {
    return this.#shared.storage
  }

  /** Options after validation and defaults, as plain JSON. */
  get config(): Record<string, unknown> {
    return configToJSON(this.#config)
  }

  /**
   * Runs `fn` under the circuit. `fn` receives an AbortSignal that aborts when `timeout` passes.
   * @throws CircuitOpenError when open (or half_open with every probe permit taken) and no fallback serves.
   * @throws CircuitBulkheadError when `maxConcurrent` calls already run and no fallback serves.
   * @throws CircuitTimeoutError when the call outlives `timeout` and no fallback serves.
   */
  call<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>): Promise<R> {
    if (!channels.call.hasSubscribers) return this.#run(fn, undefined)
    const context: CallContext = { circuit: this.name, state: this.#shared.current.status }
    return channels.call.tracePromise(() => this.#run(fn, context), context)
  }

  /** `fn` as a function guarded by this circuit (its arguments pass through; use `call` for the signal). */
  wrap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>): (...args: A) => Promise<R> {
    return (...args: A) => this.call(() => fn(...args))
  }

  #run<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, ctx: CallContext | undefined): Promise<R> {
    const max = this.#config.maxConcurrent
    if (max !== undefined && this.#inFlight >= max) {
      return this.#rejected(new CircuitBulkheadError(this.name, max), 'bulkhead', ctx)
    }
    // Reserved before the status read so concurrent admissions cannot overshoot the bulkhead.
    this.#inFlight++
    const status = this.#shared.read()
    if (!isThenable(status)) return this.#admit(status, fn, ctx)
    return status.then(
      (s) => this.#admit(s, fn, ctx),
      (error: unknown) => {
        this.#inFlight--
        if (ctx) ctx.outcome = 'rejected'
        throw error
      },
    )
  }

  #admit<R>(status: StatusRecord, fn: (signal: AbortSignal) => R | PromiseLike<R>, ctx: CallContext | undefined): Promise<R> {
    if (ctx) ctx.state = status.status
    if (status.status === 'closed') return this.#execute(fn, status.epoch, undefined, ctx)
    if (status.status === 'half_open') return this.#probe(status, fn, ctx)
    const now = this.#config.clock()
    if (now < this.#shared.halfOpenAt(status)) {
      return this.#rejected(this.#openError(status, 'open'), 'open', ctx)
    }
    const next = this.#shared.transition(status, 'half_open', now)
    const go = (s: StatusRecord): Promise<R> => {
      if (ctx) ctx.state = s.status
      if (s.status === 'half_open') return this.#probe(s, fn, ctx)
      if (s.status === 'closed') return this.#execute(fn, s.epoch, undefined, ctx)
      return this.#rejected(this.#openError(s, 'open'), 'open', ctx)
    }
    return isThenable(next) ? next.then(go) : go(next)
  }

  #probe<R>(status: StatusRecord, fn: (signal: AbortSignal) => R | PromiseLike<R>, ctx: CallContext | undefined): Promise<R> {
    const permit = this.#permits.acquire(status)
    const go = (p: Permit | null): Promise<R> =>
      p === null ? this.#rejected(this.#openError(status, 'half_open_full'), 'half_open_full', ctx) : this.#execute(fn, status.epoch, p, ctx)
    return isThenable(permit) ? permit.then(go) : go(permit)
  }

  #execute<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, epoch: number, permit: Permit, ctx: CallContext | undefined): Promise<R> {
    // Reading the clock is the largest cost of the closed path, so a call is timed only for a
    // storage that keeps durations (one with an event log).
    const started = this.#shared.timesCalls ? this.#config.clock() : NaN
    const timeout = this.#config.timeout
    let result: Promise<R>
    if (timeout !== undefined) {
      result = runWithTimeout(fn, timeout, this.name)
    } else {
      try {
        result = Promise.resolve(fn(NEVER_ABORTED))
      } catch (error) {
        result = Promise.reject(error)
      }
    }
    return result.then(
      (value) => {
        this.#succeeded(epoch, permit, started)
        if (ctx) ctx.outcome = 'success'
        return value
      },
      (error: unknown) => this.#failed<R>(error, epoch, permit, started, ctx),
    )
  }

  #succeeded(epoch: number, permit: Permit, started: number): void {
    this.#inFlight--
    if (permit === undefined) return this.#outcomes.success(epoch, false, started)
    this.#permits.release(permit, epoch)
    this.#outcomes.success(epoch, true, started)
  }

  #failed<R>(error: unknown, epoch: number, permit: Permit, started: number, ctx: CallContext | undefined): Promise<R> {
    this.#inFlight--
    this.#permits.release(permit, epoch)
    const timedOut = isCircuitTimeoutError(error)
    if (!timedOut && !this.#outcomes.counts(error)) {
      if (ctx) ctx.outcome = 'failure'
      throw error
    }
    const counted = this.#outcomes.failure(epoch, permit !== undefined, started)
    const outcome: CallOutcome = timedOut ? 'timeout' : 'failure'
    return isThenable(counted)
      ? counted.then(() => this.#fallbackOr<R>(error, outcome, ctx))
      : this.#fallbackOr<R>(error, outcome, ctx)
  }

  #openError(status: StatusRecord, reason: 'open' | 'half_open_full'): CircuitOpenError {
    return new CircuitOpenError(this.name, status.openedAt, reason)
  }

  #rejected<R>(error: CircuitOpenError | CircuitBulkheadError, reason: 'open' | 'half_open_full' | 'bulkhead', ctx: CallContext | undefined): Promise<R> {
    if (reason !== 'bulkhead') this.#inFlight--
    this.#shared.hooks.reject({ circuit: this.name, reason })
    return this.#fallbackOr<R>(error, 'rejected', ctx)
  }

  #fallbackOr<R>(error: unknown, outcome: CallOutcome, ctx: CallContext | undefined): Promise<R> {
    const fallback = this.#config.fallback
    if (ctx) ctx.outcome = fallback === undefined ? outcome : 'fallback'
    if (fallback === undefined) return Promise.reject(error)
    return runFallback(fallback, error, { circuit: this.name, state: this.#shared.current.status }) as Promise<R>
  }

  /** Opens the circuit now (fresh `openedAt`); it recovers through half_open after `resetAfter` like any trip. */
  forceOpen(): Promise<void> {
    return this.#shared.moveTo('open', false)
  }

  /** Closes the circuit now if it is not closed. */
  forceClose(): Promise<void> {
    return this.#shared.moveTo('closed', false)
  }

  /**
   * Soft reset: closed under a fresh epoch, so outcomes before it no longer count toward the
   * threshold; the counts stay in storage (and in `stats()` until they leave the window).
   */
  reset(): Promise<void> {
    this.#outcomes.lastFailureAt = null
    return this.#shared.moveTo('closed', true)
  }

  /** Clears everything storage holds for this circuit and starts closed under a fresh epoch. */
  hardReset(): Promise<void> {
    this.#outcomes.forget()
    return this.#shared.hardReset()
  }

  /** Swaps the storage at run time (the seed's on_storage_error HA pattern); the next call reads the new one. */
  useStorage(storage: Storage): void {
    assertStorage(storage)
    this.#unlisten()
    this.#shared.use(storage)
    this.#unlisten = this.#listen(storage)
  }

  /**
   * Pushed transitions refresh the cached status at once. Without a cache (`stateCacheTtl: 0`)
   * every call reads storage anyway, so the circuit does not subscribe at all.
   */
  #listen(storage: Storage): () => void {
    if (this.#config.stateCacheTtl === 0) return NO_OP
    return listen(storage, this.name, (record) => this.#shared.pushed(record))
  }

  /** Status and counts over the threshold window, read from storage now. */
  stats(): Promise<CircuitStats> {
    return this.#outcomes.stats()
  }

  /** This circuit as a plain-JSON snapshot entry (see `registry.exportAll()`). */
  async snapshot(): Promise<CircuitSnapshot> {
    const s = await this.stats()
    return {
      name: this.name,
      state: s.state,
      openedAt: s.openedAt,
      epoch: s.epoch,
      failureCount: s.failures,
      successCount: s.successes,
      lastFailureAt: s.lastFailureAt,
      config: this.config,
    }
  }

  /**
   * Restores a snapshot entry without firing hooks: the status (under an epoch newer than both
   * the snapshot's and the stored one) and the counts, topped up to the snapshot's.
   * @throws ConfigurationError when the entry is malformed.
   */
  async restoreState(snapshot: CircuitSnapshot): Promise<void> {
    const entry = readSnapshotEntry(snapshot)
    await this.#shared.restore(entry)
    this.#outcomes.lastFailureAt = entry.lastFailureAt
  }

  /**
   * Applies a status learned elsewhere (the user's own bus) without firing hooks. A process-local
   * storage is written too, since it is this instance's own copy; a shared one already holds it.
   */
  syncState(input: SyncInput): void {
    this.#pending.track(this.#shared.sync(input))
  }

  /** Writes pending batched outcomes and waits for every write the calls did not wait for. */
  async flush(): Promise<void> {
    await this.#outcomes.flush(this.#config.clock())
    await this.#pending.settled()
  }

  /** Flushes, stops listening to storage pushes and leaves the registry. */
  async dispose(): Promise<void> {
    await this.flush()
    this.#unlisten()
    this.#registry?.unregister(this)
  }
}
