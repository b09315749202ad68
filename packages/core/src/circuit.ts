import { hardReset, readSyncInput, restore, sync } from './admin.js'
import type { SyncInput } from './admin.js'
import { CallPath } from './call-path.js'
import { channels } from './channels.js'
import type { CallContext } from './channels.js'
import { assertStorage, configToJSON, resolveConfig } from './config.js'
import type { CircuitConfig } from './config.js'
import { ConfigurationError } from './errors.js'
import { checkCircuitName } from './kit/names.js'
import { MAX_TIMER_MS } from './kit/numbers.js'
import type { CircuitStats, LastError } from './circuit-stats.js'
import { localCounters } from './circuit-stats.js'
import type { CallAnyOptions, CallOptions, CircuitOptions, CircuitRef, IsolationHold, Protected } from './options.js'
import type { OutcomeRecorder } from './outcomes.js'
import { defaultRegistry } from './registry.js'
import type { Registry } from './registry.js'
import { readSnapshotEntry } from './snapshot.js'
import type { CircuitSnapshot } from './snapshot.js'
import type { StatusCache } from './status-cache.js'
import type { Storage } from './storage.js'
import type { StorageIO } from './storage-io.js'
import { listen } from './subscriptions.js'
import { cascade, resolve } from './cascade.js'
import type { Transitions } from './transitions.js'
import type { CircuitState } from './types.js'

export type { CircuitStats, LastError, SyncInput }

const NO_OP = () => {}


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
  readonly #path: CallPath<T>
  readonly #io: StorageIO
  readonly #cache: StatusCache
  readonly #transitions: Transitions
  readonly #outcomes: OutcomeRecorder
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
    const path = new CallPath<T>(name, config, storage, config.dependsOn && ((ref) => this.#lookup(ref)))
    this.#path = path
    this.#io = path.io
    this.#cache = path.cache
    this.#transitions = path.transitions
    this.#outcomes = path.outcomes
    const targets = config.cascadesTo
    if (targets !== undefined) this.#transitions.onOpened = () => cascade(this.name, targets, this.#registry, path)
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
   * Runs `fn` under the circuit. `fn` receives an AbortSignal that aborts when `timeout` passes or
   * when `options.signal` (the caller's cancellation) aborts; a cancelled call rejects with the
   * signal's reason and counts as nothing.
   * @throws CircuitOpenError when open, isolated, or half_open with every probe permit taken, and no fallback serves.
   * @throws CircuitDependencyError when a circuit of `dependsOn` is open and no fallback serves.
   * @throws CircuitBulkheadError when `maxConcurrent` calls already run and no fallback serves.
   * @throws CircuitTimeoutError when the call outlives `timeout` and no fallback serves.
   */
  call<R>(fn: Protected<R>, options?: CallOptions): Promise<R | T> {
    const signal = options?.signal
    if (!channels.call.hasSubscribers) return this.#path.run(fn, undefined, signal)
    const context: CallContext = { circuit: this.name, state: this.#cache.phase.state }
    return channels.call.tracePromise(() => this.#path.run(fn, context, signal), context)
  }

  /**
   * Races different functions as one call (the Ruby gem BreakerMachines' `backends`): the first
   * starts at once, each next one `delay` ms later (or at once when all started so far failed);
   * the first success wins and the others are aborted. The whole counts as one outcome.
   */
  callAny<R>(fns: ReadonlyArray<Protected<R>>, options?: CallAnyOptions): Promise<R | T> {
    if (!Array.isArray(fns) || fns.length === 0 || fns.some((fn) => typeof fn !== 'function')) {
      return Promise.reject(new ConfigurationError('callAny', 'takes a non-empty array of functions', fns))
    }
    const delay = options?.delay ?? this.#config.hedge?.delay ?? 0
    if (!(delay >= 0 && delay <= MAX_TIMER_MS)) return Promise.reject(new ConfigurationError('callAny.delay', 'must be a number of milliseconds >= 0', delay))
    const signal = options?.signal
    if (!channels.call.hasSubscribers) return this.#path.runAny(fns, delay, undefined, signal)
    const context: CallContext = { circuit: this.name, state: this.#cache.phase.state }
    return channels.call.tracePromise(() => this.#path.runAny(fns, delay, context, signal), context)
  }

  /**
   * Holds the circuit open — on every instance sharing its storage — until the hold is released
   * (cockatiel's `isolate()`). Holds are counted across instances; calls are rejected with
   * `CircuitOpenError` (reason `'isolated'`), no probe goes through, and the last release closes
   * the circuit. `forceClose()` and `reset()` do not lift holds; `hardReset()` clears them.
   */
  async isolate(): Promise<IsolationHold> {
    await this.#transitions.hold(1, this.#config.clock)
    let released = false
    return {
      release: async () => {
        if (released) return
        released = true
        await this.#transitions.hold(-1, this.#config.clock)
      },
    }
  }

  /** The call path of a circuit this one depends on (of this copy of core: another copy's is not readable). */
  #lookup(ref: CircuitRef): CallPath<unknown> | undefined {
    const circuit = resolve(ref, this.#registry)
    return circuit !== undefined && #path in circuit ? circuit.#path : undefined
  }

  /** `fn` as a function guarded by this circuit (its arguments pass through; use `call` for the signal). */
  wrap<A extends unknown[], R>(fn: (...args: A) => R | PromiseLike<R>): (...args: A) => Promise<R | T> {
    return (...args: A) => this.call(() => fn(...args))
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
    return hardReset(this.#cache, this.#path.hooks, this.#config.clock)
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
    this.#cache.storageChanged()
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
    return {
      state: phase.state,
      ...counts,
      openedAt: record.openedAt,
      epoch: record.epoch,
      lastFailureAt: this.#outcomes.lastFailureAt,
      ...localCounters(this.#path),
      holds: record.holds ?? 0,
    }
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
      rejections: s.rejections,
      fallbacks: s.fallbacks,
      timeouts: s.timeouts,
      lastError: s.lastError,
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
    const path = this.#path
    path.answers.rejections = entry.rejections ?? path.answers.rejections
    path.answers.fallbacks = entry.fallbacks ?? path.answers.fallbacks
    path.timeouts = entry.timeouts ?? path.timeouts
    if (entry.lastError) {
      // A stand-in that describes itself as the exported one did: same class name and message.
      const { class: name, message, at } = entry.lastError
      path.lastError = Object.assign(new Error(message), { name, constructor: { name } })
      this.#outcomes.lastFailureAt = at
    }
  }

  /**
   * Applies a status learned elsewhere (the user's own bus) without firing hooks. A process-local
   * storage is written too, since it is this instance's own copy; a shared one already holds it.
   * @throws ConfigurationError for a state or record that is not valid (checked like a constructor's options).
   */
  syncState(input: SyncInput): void {
    const record = readSyncInput(input, this.#cache.phase.record, this.#config.clock())
    const explicitEpoch = typeof input === 'object' && input !== null && input.epoch !== undefined
    this.#path.pending.track(sync(this.#cache, record, explicitEpoch))
  }

  /** Writes pending batched outcomes and waits for every write the calls did not wait for. */
  async flush(): Promise<void> {
    await this.#outcomes.flush(this.#config.clock())
    await this.#path.pending.settled()
  }

  /** Flushes, stops listening to storage pushes, releases its name in the storage and leaves the registry. */
  async dispose(): Promise<void> {
    await this.flush()
    this.#detach()
    this.#detach = NO_OP
    this.#registry?.unregister(this)
  }
}
