import { admit } from './state-machine.js'
import type { HalfOpenPhase, OpenPhase, Phase } from './state-machine.js'
import { hardReset, readSyncInput, restore, sync } from './admin.js'
import type { SyncInput } from './admin.js'
import { channels } from './channels.js'
import type { CallContext, CallOutcome, RejectMessage } from './channels.js'
import { assertStorage, configToJSON, resolveConfig } from './config.js'
import type { CircuitConfig } from './config.js'
import { CircuitBulkheadError, CircuitOpenError, isCircuitTimeoutError } from './errors.js'
import { runFallback } from './fallback.js'
import { HookRunner } from './hooks.js'
import { checkCircuitName } from './kit/names.js'
import { isThenable } from './maybe.js'
import type { CircuitOptions } from './options.js'
import { OutcomeRecorder } from './outcomes.js'
import { PendingWrites } from './pending.js'
import { ProbePermits } from './probes.js'
import type { Permit } from './probes.js'
import { defaultRegistry } from './registry.js'
import type { Registry } from './registry.js'
import { readSnapshotEntry } from './snapshot.js'
import type { CircuitSnapshot } from './snapshot.js'
import { StatusCache } from './status-cache.js'
import type { Storage } from './storage.js'
import { StorageIO } from './storage-io.js'
import { listen } from './subscriptions.js'
import { runWithTimeout } from './timeout.js'
import { Transitions } from './transitions.js'
import type { CircuitState } from './types.js'

export type { SyncInput }

/** What `stats()` answers; counts are over the threshold window. */
export interface CircuitStats {
  /** Current state (read from storage). */
  state: CircuitState
  /** Failures counted in the threshold window. */
  failures: number
  /** Successes counted in the threshold window. */
  successes: number
  /** When the circuit last opened (epoch ms), or `null`. */
  openedAt: number | null
  /** Epoch of the current status. */
  epoch: number
  /** Last counted failure this instance saw (epoch ms), or `null`. */
  lastFailureAt: number | null
}

const NEVER_ABORTED = new AbortController().signal
const NO_OP = () => {}

/** A protected function: it receives an AbortSignal that aborts when the call's `timeout` passes. */
type Protected<R> = (signal: AbortSignal) => R | PromiseLike<R>

/** The settle handlers of plain closed calls in one phase, made once per phase instead of per call. */
interface ClosedHandlers {
  readonly phase: Phase
  /** Chained: their answer is the call's answer (a fallback may replace an error). */
  readonly ok: (value: unknown) => unknown
  readonly fail: (error: unknown) => unknown
  /** Watching: they only count the outcome; the caller awaits the function's own promise. */
  readonly saw: (value: unknown) => void
  readonly sawFail: (error: unknown) => void
}

/**
 * A circuit breaker whose state lives in a `Storage`, so every instance sharing that storage
 * sees the same circuit. Open → half_open happens lazily on the next call; there are no timers
 * per circuit. On in-process storage the whole path runs without an `await`.
 *
 * `T` is what the `fallback` option serves; `call()` answers the protected function's result
 * or that.
 */
export class Circuit<T = never> {
  /** The circuit's name, unique within its registry. */
  readonly name: string
  readonly #config: CircuitConfig
  readonly #registry: Registry | undefined
  readonly #hooks: HookRunner
  readonly #io: StorageIO
  readonly #cache: StatusCache
  readonly #transitions: Transitions
  readonly #outcomes: OutcomeRecorder
  readonly #pending = new PendingWrites()
  readonly #permits: ProbePermits
  readonly #rejectOpen: RejectMessage
  readonly #rejectFull: RejectMessage
  #handlers: ClosedHandlers | undefined
  #inFlight = 0
  // Whether storage answered the last status read synchronously (in-process storage).
  #syncRead = false
  // Nothing can stand between a call's own promise and its caller: no fallback to serve, and
  // no beforeTransition hook that would make a trip asynchronous.
  readonly #mayHandOver: boolean
  #detach: () => void = NO_OP

  /** @throws ConfigurationError naming the option (or the name) and the value received. */
  constructor(name: string, options: CircuitOptions<T> = {}) {
    const config = resolveConfig(options)
    const registry = options.registry === undefined ? defaultRegistry : options.registry || undefined
    const storage = options.storage ?? registry?.defaultStorage ?? defaultRegistry.defaultStorage
    assertStorage(storage)
    checkCircuitName(name, storage.capabilities.maxNameBytes, storage.name)
    this.name = name
    this.#config = config
    this.#hooks = new HookRunner(name, config.on)
    this.#io = new StorageIO(name, config.storageTimeout, this.#hooks, storage)
    const timing = { name, resetAfter: config.resetAfter, jitter: config.jitter }
    this.#cache = new StatusCache(this.#io, config.stateCacheTtl, timing, config.onStorageFailure === 'open')
    this.#transitions = new Transitions(this.#cache, this.#hooks)
    this.#outcomes = new OutcomeRecorder(this.#cache, this.#transitions, this.#pending, config)
    this.#permits = new ProbePermits(this.#io, this.#pending, config.halfOpenCalls, config.timeout ?? config.resetAfter)
    this.#mayHandOver = config.fallback === undefined && !this.#hooks.hasBeforeTransition
    this.#rejectOpen = Object.freeze({ circuit: name, reason: 'open' })
    this.#rejectFull = Object.freeze({ circuit: name, reason: 'half_open_full' })
    // Registered before anything is attached to the storage: a circuit whose construction
    // throws (a duplicate name) must leave no subscription or retained name behind.
    registry?.register(this)
    this.#registry = registry
    try {
      this.#detach = this.#attach(storage)
    } catch (error) {
      registry?.unregister(this)
      throw error
    }
  }

  /** Last known state, without asking storage. */
  get state(): CircuitState {
    return this.#cache.phase.state
  }

  /** The storage this circuit uses now. */
  get storage(): Storage {
    return this.#io.storage
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
  call<R>(fn: Protected<R>): Promise<R | T> {
    if (!channels.call.hasSubscribers) return this.#run(fn, undefined)
    const context: CallContext = { circuit: this.name, state: this.#cache.phase.state }
    return channels.call.tracePromise(() => this.#run(fn, context), context)
  }

  /** `fn` as a function guarded by this circuit (its arguments pass through; use `call` for the signal). */
  wrap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>): (...args: A) => Promise<R | T> {
    return (...args: A) => this.call(() => fn(...args))
  }

  #run<R>(fn: Protected<R>, ctx: CallContext | undefined): Promise<R | T> {
    const max = this.#config.maxConcurrent
    if (max !== undefined && this.#inFlight >= max) return this.#bulkheadRejected(max, ctx)
    // Reserved before the status read so concurrent admissions cannot overshoot the bulkhead.
    this.#inFlight++
    const phase = this.#cache.read()
    if (!isThenable(phase)) {
      this.#syncRead = true
      return this.#admit(phase, fn, ctx, true)
    }
    this.#syncRead = false
    return phase.then(
      (p) => this.#admit(p, fn, ctx, true),
      (error: unknown) => {
        this.#inFlight--
        if (ctx) ctx.outcome = 'rejected'
        throw error
      },
    )
  }

  /** Admits, probes or rejects a call; `mayMove` lets an open circuit whose delay passed go half_open. */
  #admit<R>(phase: Phase, fn: Protected<R>, ctx: CallContext | undefined, mayMove: boolean): Promise<R | T> {
    if (ctx) ctx.state = phase.state
    // Only an open circuit needs the time: a closed call reads no clock.
    switch (admit(phase, phase.state === 'open' ? this.#config.clock() : 0)) {
      case 'run':
        return this.#execute(fn, phase, undefined, ctx)
      case 'probe':
        return this.#probe(phase as HalfOpenPhase, fn, ctx)
      case 'reject':
        return this.#openRejected(phase as OpenPhase, ctx)
      case 'half_open': {
        if (!mayMove) return this.#openRejected(phase as OpenPhase, ctx)
        const next = this.#transitions.to(phase, 'half_open', this.#config.clock())
        return isThenable(next) ? next.then((p) => this.#admit(p, fn, ctx, false)) : this.#admit(next, fn, ctx, false)
      }
    }
  }

  #probe<R>(phase: HalfOpenPhase, fn: Protected<R>, ctx: CallContext | undefined): Promise<R | T> {
    const permit = this.#permits.acquire(phase)
    const go = (p: Permit | null): Promise<R | T> => {
      if (p !== null) return this.#execute(fn, phase, p, ctx)
      this.#inFlight--
      return this.#rejected((phase.error ??= new CircuitOpenError(this.name, phase.record.openedAt, 'half_open_full')), this.#rejectFull, ctx)
    }
    return isThenable(permit) ? permit.then(go) : go(permit)
  }

  #execute<R>(fn: Protected<R>, phase: Phase, permit: Permit, ctx: CallContext | undefined): Promise<R | T> {
    const io = this.#io
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
    // The common case — closed, untraced, untimed — settles through handlers made once per phase.
    if (permit === undefined && ctx === undefined && !io.timesCalls) {
      const handlers = this.#handlers?.phase === phase ? this.#handlers : this.#closedHandlers(phase)
      if (!this.#mayHandOver || !this.#syncRead) return result.then(handlers.ok, handlers.fail) as Promise<R | T>
      // With nothing to serve instead and a synchronous storage, the caller can await the
      // function's own promise: the handlers attached first run first, so the outcome is
      // counted (and a trip written) before the caller resumes — one promise hop fewer per call.
      result.then(handlers.saw, handlers.sawFail)
      return result
    }
    // Reading the clock is the largest cost of the closed path, so a call is timed only for a
    // storage that keeps durations (one with an event log) or a probe.
    const started = io.timesCalls || permit !== undefined ? this.#config.clock() : Number.NaN
    return result.then(
      (value) => {
        this.#inFlight--
        if (permit === undefined) this.#outcomes.success(phase, started)
        else {
          this.#permits.release(permit)
          this.#outcomes.probeSucceeded(phase, started)
        }
        if (ctx) ctx.outcome = 'success'
        return value
      },
      (error: unknown) => this.#failed<R>(error, phase, permit, started, ctx),
    )
  }

  #closedHandlers(phase: Phase): ClosedHandlers {
    return (this.#handlers = {
      phase,
      ok: (value) => {
        this.#inFlight--
        this.#outcomes.success(phase, Number.NaN)
        return value
      },
      fail: (error) => this.#failed(error, phase, undefined, Number.NaN, undefined),
      saw: () => {
        this.#inFlight--
        this.#outcomes.success(phase, Number.NaN)
      },
      sawFail: (error) => {
        this.#inFlight--
        if (isCircuitTimeoutError(error) || this.#outcomes.counts(error)) this.#pending.track(this.#outcomes.failure(phase, false, Number.NaN))
      },
    })
  }

  #failed<R>(error: unknown, phase: Phase, permit: Permit, started: number, ctx: CallContext | undefined): R | T | Promise<R | T> {
    this.#inFlight--
    this.#permits.release(permit)
    const timedOut = isCircuitTimeoutError(error)
    if (!timedOut && !this.#outcomes.counts(error)) {
      if (ctx) ctx.outcome = 'failure'
      throw error
    }
    const counted = this.#outcomes.failure(phase, permit !== undefined, started)
    const outcome: CallOutcome = timedOut ? 'timeout' : 'failure'
    // Thrown rather than returned as a rejected promise: one promise hop fewer per failure.
    return isThenable(counted) ? counted.then(() => this.#serve(error, outcome, ctx)) : this.#serve(error, outcome, ctx)
  }

  /** The fallback's answer for `error`, or `error` thrown again when there is no fallback. */
  #serve(error: unknown, outcome: CallOutcome, ctx: CallContext | undefined): T | Promise<T> {
    const fallback = this.#config.fallback
    if (ctx) ctx.outcome = fallback === undefined ? outcome : 'fallback'
    if (fallback === undefined) throw error
    return runFallback(fallback, error, { circuit: this.name, state: this.#cache.phase.state }) as Promise<T>
  }

  #openRejected<R>(phase: OpenPhase, ctx: CallContext | undefined): Promise<R | T> {
    this.#inFlight--
    // One error per opening, reused: it has no stack to capture and its fields do not change.
    return this.#rejected((phase.error ??= new CircuitOpenError(this.name, phase.record.openedAt, 'open')), this.#rejectOpen, ctx)
  }

  #bulkheadRejected<R>(max: number, ctx: CallContext | undefined): Promise<R | T> {
    return this.#rejected(new CircuitBulkheadError(this.name, max), { circuit: this.name, reason: 'bulkhead' }, ctx)
  }

  #rejected<R>(error: CircuitOpenError | CircuitBulkheadError, event: RejectMessage, ctx: CallContext | undefined): Promise<R | T> {
    this.#hooks.reject(event)
    if (this.#config.fallback === undefined) {
      if (ctx) ctx.outcome = 'rejected'
      return Promise.reject(error)
    }
    return this.#serve(error, 'rejected', ctx) as Promise<T>
  }

  /** Opens the circuit now (fresh `openedAt`); it recovers through half_open after `resetAfter` like any trip. */
  forceOpen(): Promise<void> {
    return this.#transitions.moveTo('open', false, this.#config.clock)
  }

  /** Closes the circuit now if it is not closed. */
  forceClose(): Promise<void> {
    return this.#transitions.moveTo('closed', false, this.#config.clock)
  }

  /**
   * Soft reset: closed under a fresh epoch, so outcomes before it no longer count toward the
   * threshold; the counts stay in storage (and in `stats()` until they leave the window).
   */
  reset(): Promise<void> {
    this.#outcomes.lastFailureAt = null
    return this.#transitions.moveTo('closed', true, this.#config.clock)
  }

  /** Clears everything storage holds for this circuit and starts closed under a fresh epoch. */
  hardReset(): Promise<void> {
    this.#outcomes.forget()
    return hardReset(this.#cache, this.#hooks, this.#config.clock)
  }

  /**
   * Swaps the storage at run time (for instance from the `storageError` hook, to move to a
   * standby); the next call reads the new one.
   * @throws ConfigurationError when it is not a storage, or cannot keep this circuit's name.
   */
  useStorage(storage: Storage): void {
    assertStorage(storage)
    checkCircuitName(this.name, storage.capabilities.maxNameBytes, storage.name)
    this.#detach()
    this.#io.use(storage)
    this.#cache.expire()
    this.#detach = this.#attach(storage)
  }

  /**
   * Holds the name in the storage (`retain`) and, with a cache, listens to its pushes so they
   * refresh the cached status at once. Without a cache (`stateCacheTtl: 0`) every call reads
   * storage anyway, so the circuit does not subscribe at all.
   */
  #attach(storage: Storage): () => void {
    const release = storage.retain?.(this.name) ?? NO_OP
    let unlisten = NO_OP
    try {
      if (this.#config.stateCacheTtl > 0) unlisten = listen(storage, this.name, (record) => this.#cache.pushed(record))
    } catch (error) {
      release()
      throw error
    }
    return () => {
      unlisten()
      release()
    }
  }

  /** Status and counts over the threshold window, read from storage now. */
  async stats(): Promise<CircuitStats> {
    const phase = await this.#cache.fresh()
    const counts = await this.#outcomes.windowCounts()
    const { record } = phase
    return { state: phase.state, ...counts, openedAt: record.openedAt, epoch: record.epoch, lastFailureAt: this.#outcomes.lastFailureAt }
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
    await restore(this.#cache, entry, this.#config.threshold.within, this.#config.clock())
    this.#outcomes.lastFailureAt = entry.lastFailureAt
  }

  /**
   * Applies a status learned elsewhere (the user's own bus) without firing hooks. A process-local
   * storage is written too, since it is this instance's own copy; a shared one already holds it.
   * @throws ConfigurationError for a state or record that is not valid (checked like a constructor's options).
   */
  syncState(input: SyncInput): void {
    const record = readSyncInput(input, this.#cache.phase.record, this.#config.clock())
    const explicitEpoch = typeof input === 'object' && input !== null && input.epoch !== undefined
    this.#pending.track(sync(this.#cache, record, explicitEpoch))
  }

  /** Writes pending batched outcomes and waits for every write the calls did not wait for. */
  async flush(): Promise<void> {
    await this.#outcomes.flush(this.#config.clock())
    await this.#pending.settled()
  }

  /** Flushes, stops listening to storage pushes, releases its name in the storage and leaves the registry. */
  async dispose(): Promise<void> {
    await this.flush()
    this.#detach()
    this.#detach = NO_OP
    this.#registry?.unregister(this)
  }
}
