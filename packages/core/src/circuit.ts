import { PendingBatch, sweepLater } from './batch.js'
import type { Flushable } from './batch.js'
import { channels } from './channels.js'
import type { CallContext, CallOutcome, TransitionMessage } from './channels.js'
import { assertStorage, configToJSON, resolveConfig } from './config.js'
import type { CircuitConfig } from './config.js'
import {
  CircuitBulkheadError,
  CircuitOpenError,
  StorageError,
  isCircuitTimeoutError,
} from './errors.js'
import { runFallback } from './fallback.js'
import { HookRunner } from './hooks.js'
import { resetDelay } from './jitter.js'
import { andThen, attempt, isThenable } from './maybe.js'
import type { CircuitOptions } from './options.js'
import { defaultRegistry } from './registry.js'
import type { Registry } from './registry.js'
import { readSnapshotEntry } from './snapshot.js'
import type { CircuitSnapshot } from './snapshot.js'
import type { Storage } from './storage.js'
import { readCounts, recordMany, recordOutcome } from './storage-ops.js'
import { listen } from './subscriptions.js'
import { runWithTimeout } from './timeout.js'
import type { CircuitState, MaybePromise, ProbeLease, StatusRecord, WindowCounts } from './types.js'

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

/** A shared status as `syncState` accepts it: a bare state, or (part of) a status record. */
export type SyncInput = CircuitState | (Partial<StatusRecord> & { status: CircuitState })

const CLOSED: StatusRecord = Object.freeze({ status: 'closed', openedAt: null, epoch: 0, updatedAt: 0 })
const NEVER_ABORTED = new AbortController().signal
/** A half-open permit counted by this instance (the storage offers no leases). */
const LOCAL_PERMIT = true
type Permit = ProbeLease | typeof LOCAL_PERMIT | undefined

/**
 * A circuit breaker whose state lives in a `Storage`, so every instance sharing that storage
 * sees the same circuit. Open → half_open happens lazily on the next call; there are no timers
 * per circuit. On in-process storage the whole path runs without an `await`.
 */
export class Circuit implements Flushable {
  /** The circuit's name, unique within its registry. */
  readonly name: string
  readonly #config: CircuitConfig
  readonly #hooks: HookRunner
  readonly #registry: Registry | undefined
  readonly #over: (counts: WindowCounts) => boolean
  #storage: Storage
  /** The storage keeps call durations (it has an event log), so calls are timed. */
  #timesCalls: boolean
  #status: StatusRecord = CLOSED
  #fetchedAt = -Infinity
  #inFlight = 0
  #probes = 0
  #probeEpoch = -1
  #delayEpoch = -1
  #delay = 0
  #lastFailureAt: number | null = null
  #transitioning: { epoch: number; result: MaybePromise<StatusRecord> } | undefined
  readonly #batch: PendingBatch | undefined
  readonly #pending = new Set<Promise<unknown>>()
  #unlisten: () => void

  /** @throws ConfigurationError naming the option and the value received. */
  constructor(name: string, options: CircuitOptions = {}) {
    this.#config = resolveConfig(name, options)
    this.name = name
    const registry = options.registry === undefined ? defaultRegistry : options.registry || undefined
    const storage = options.storage ?? registry?.defaultStorage ?? defaultRegistry.defaultStorage
    assertStorage(storage)
    this.#storage = storage
    this.#timesCalls = typeof storage.eventLog === 'function'
    this.#hooks = new HookRunner(name, this.#config.on)
    this.#batch = this.#config.batch ? new PendingBatch() : undefined
    const t = this.#config.threshold
    this.#over =
      'failures' in t
        ? (c) => c.failures >= t.failures
        : (c) => c.failures + c.successes >= t.minimumCalls && c.failures / (c.failures + c.successes) >= t.failureRate
    this.#unlisten = listen(storage, name, (record) => this.#pushed(record))
    registry?.register(this)
    this.#registry = registry
  }

  /** Last known state, without asking storage. */
  get state(): CircuitState {
    return this.#status.status
  }

  /** The storage this circuit uses now. */
  get storage(): Storage {
    return this.#storage
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
    const context: CallContext = { circuit: this.name, state: this.#status.status }
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
    const status = this.#readStatus()
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
    if (now < (status.openedAt ?? 0) + this.#resetDelay(status.epoch)) {
      return this.#rejected(this.#openError(status, 'open'), 'open', ctx)
    }
    const next = this.#transition(status, 'half_open', now)
    const go = (s: StatusRecord): Promise<R> => {
      if (ctx) ctx.state = s.status
      if (s.status === 'half_open') return this.#probe(s, fn, ctx)
      if (s.status === 'closed') return this.#execute(fn, s.epoch, undefined, ctx)
      return this.#rejected(this.#openError(s, 'open'), 'open', ctx)
    }
    return isThenable(next) ? next.then(go) : go(next)
  }

  #probe<R>(status: StatusRecord, fn: (signal: AbortSignal) => R | PromiseLike<R>, ctx: CallContext | undefined): Promise<R> {
    const storage = this.#storage
    if (storage.capabilities.leases && storage.acquireProbe) {
      const ttl = this.#config.timeout ?? this.#config.resetAfter
      const lease = attempt(
        () => storage.acquireProbe!(this.name, this.#config.halfOpenCalls, ttl),
        (error) => (this.#storageFailed('acquireProbe', error), undefined),
      )
      const go = (l: ProbeLease | null | undefined): Promise<R> => {
        if (l === undefined) return this.#localProbe(status, fn, ctx) // lease storage failed: count locally
        if (l === null) return this.#rejected(this.#openError(status, 'half_open_full'), 'half_open_full', ctx)
        return this.#execute(fn, status.epoch, l, ctx)
      }
      return isThenable(lease) ? lease.then(go) : go(lease)
    }
    return this.#localProbe(status, fn, ctx)
  }

  #localProbe<R>(status: StatusRecord, fn: (signal: AbortSignal) => R | PromiseLike<R>, ctx: CallContext | undefined): Promise<R> {
    if (this.#probeEpoch !== status.epoch) {
      this.#probeEpoch = status.epoch
      this.#probes = 0
    }
    if (this.#probes >= this.#config.halfOpenCalls) {
      return this.#rejected(this.#openError(status, 'half_open_full'), 'half_open_full', ctx)
    }
    this.#probes++
    return this.#execute(fn, status.epoch, LOCAL_PERMIT, ctx)
  }

  #execute<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, epoch: number, permit: Permit, ctx: CallContext | undefined): Promise<R> {
    // Reading the clock is the largest cost of the closed path, so a call is timed only for a
    // storage that keeps durations (one with an event log).
    const started = this.#timesCalls ? this.#config.clock() : NaN
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
    this.#release(permit, epoch)
    // Outcomes of calls admitted under an older epoch describe a state that no longer holds.
    if (epoch !== this.#status.epoch) return
    if (permit !== undefined || this.#batch) {
      const now = this.#config.clock()
      const duration = this.#duration(started, now)
      return this.#track(permit !== undefined ? this.#probeSucceeded(epoch, now, duration) : this.#batched(false, epoch, now))
    }
    const duration = this.#timesCalls ? this.#duration(started, this.#config.clock()) : 0
    // Inline rather than through attempt(): no closures on the path every success takes.
    let written: MaybePromise<void>
    try {
      written = this.#storage.recordSuccess(this.name, duration)
    } catch (error) {
      this.#storageFailed('recordSuccess', error)
      return
    }
    if (isThenable(written)) this.#track(written.then(undefined, (error: unknown) => void this.#storageFailed('recordSuccess', error)))
  }

  #failed<R>(error: unknown, epoch: number, permit: Permit, started: number, ctx: CallContext | undefined): Promise<R> {
    this.#inFlight--
    this.#release(permit, epoch)
    const timedOut = isCircuitTimeoutError(error)
    if (!timedOut && !this.#counts(error)) {
      if (ctx) ctx.outcome = 'failure'
      throw error
    }
    const now = this.#config.clock()
    this.#lastFailureAt = now
    const counted = epoch === this.#status.epoch ? this.#countFailure(epoch, permit !== undefined, now, this.#duration(started, now)) : undefined
    const outcome: CallOutcome = timedOut ? 'timeout' : 'failure'
    return isThenable(counted)
      ? counted.then(() => this.#fallbackOr<R>(error, outcome, ctx))
      : this.#fallbackOr<R>(error, outcome, ctx)
  }

  /** Call duration (ms) for storages that keep durations; 0 when the call was not timed. */
  #duration(started: number, now: number): number {
    return started === started ? Math.max(0, now - started) : 0
  }

  #counts(error: unknown): boolean {
    const isFailure = this.#config.isFailure
    if (!isFailure) return true
    try {
      return isFailure(error) !== false
    } catch (thrown) {
      this.#hooks.error('isFailure', thrown)
      return true
    }
  }

  #countFailure(epoch: number, probe: boolean, now: number, durationMs: number): MaybePromise<void> {
    if (probe) {
      // One counted probe failure reopens the circuit with a fresh openedAt.
      this.#track(attempt(() => this.#storage.recordFailure(this.name, durationMs), (e) => void this.#storageFailed('recordFailure', e)))
      return andThen(this.#transition(this.#status, 'open', now), () => undefined)
    }
    if (this.#batch) return this.#batched(true, epoch, now)
    const counts = attempt(
      () => recordOutcome(this.#storage, this.name, 'failure', durationMs, this.#window(now)),
      (error) => void this.#storageFailed('record', error),
    )
    return andThen(counts, (c) => (c ? this.#tripIfOver(c, epoch, now) : undefined))
  }

  #probeSucceeded(epoch: number, now: number, durationMs: number): MaybePromise<void> {
    // Successes since the circuit went half_open: any counted probe failure in between would
    // have reopened it, so these are consecutive.
    const since = Math.max(1, now - this.#status.updatedAt)
    const counts = attempt(
      () => recordOutcome(this.#storage, this.name, 'success', durationMs, since),
      (error) => (this.#storageFailed('record', error), { failures: 0, successes: 1 }),
    )
    return andThen(counts, (c) => {
      const status = this.#status
      if (c.successes < this.#config.successThreshold || status.epoch !== epoch || status.status !== 'half_open') return
      return andThen(this.#transition(status, 'closed', now), () => undefined)
    })
  }

  #batched(failure: boolean, epoch: number, now: number): MaybePromise<void> {
    const batch = this.#batch!
    const { interval, maxSize } = this.#config.batch!
    batch.add(failure, epoch, now)
    // A failure that would trip the circuit on the estimate is written at once, so the
    // decision to open is always made on counts the storage confirmed.
    if ((failure && this.#over(batch.estimate())) || batch.size >= maxSize || now - batch.since >= interval) {
      return this.#flushBatch(now)
    }
    sweepLater(this, interval)
  }

  #flushBatch(now: number): MaybePromise<void> {
    const batch = this.#batch
    if (!batch || batch.size === 0) return
    const epoch = batch.epoch
    const taken = batch.take()
    const counts = attempt(
      () => recordMany(this.#storage, this.name, taken, this.#window(now)),
      (error) => void this.#storageFailed('recordBatch', error),
    )
    return andThen(counts, (c) => {
      if (!c) return
      batch.last = c
      return this.#tripIfOver(c, epoch, now)
    })
  }

  /** @internal Called by the shared batch sweeper; answers whether outcomes are still pending. */
  sweep(): boolean {
    const batch = this.#batch
    if (!batch || batch.size === 0) return false
    const now = this.#config.clock()
    if (now - batch.since >= this.#config.batch!.interval) this.#track(this.#flushBatch(now))
    return batch.size > 0
  }

  #tripIfOver(counts: WindowCounts, epoch: number, now: number): MaybePromise<void> {
    const status = this.#status
    if (status.epoch !== epoch || status.status !== 'closed' || !this.#over(counts)) return
    return andThen(this.#transition(status, 'open', now), () => undefined)
  }

  /** The threshold window, starting no earlier than the last close so old failures cannot retrip it. */
  #window(now: number): number {
    return Math.min(this.#config.threshold.within, Math.max(1, now - this.#status.updatedAt))
  }

  #resetDelay(epoch: number): number {
    if (this.#delayEpoch !== epoch) {
      this.#delayEpoch = epoch
      this.#delay = resetDelay(this.name, epoch, this.#config.resetAfter, this.#config.jitter)
    }
    return this.#delay
  }

  // ── status: read, adopt, transition ─────────────────────────────────────────────────────

  #readStatus(): MaybePromise<StatusRecord> {
    // With no cache (the default) the read's time is never looked at, so the clock is not read.
    const ttl = this.#config.stateCacheTtl
    const now = ttl > 0 ? this.#config.clock() : 0
    if (ttl > 0 && now - this.#fetchedAt < ttl) return this.#status
    let read: MaybePromise<StatusRecord | null>
    try {
      read = this.#storage.getStatus(this.name)
    } catch (error) {
      return this.#readFailed(error)
    }
    if (!isThenable(read)) return this.#adopt(read, now)
    return read.then(
      (r) => this.#adopt(r, now),
      (error: unknown) => this.#readFailed(error),
    )
  }

  #readFailed(error: unknown): MaybePromise<StatusRecord> {
    const failure = this.#storageFailed('getStatus', error)
    if (this.#config.onStorageFailure === 'throw') return Promise.reject(failure)
    // Fail open: the call proceeds as if closed, under the epoch we know.
    const known = this.#status
    return known.status === 'closed' ? known : { ...known, status: 'closed' }
  }

  #adopt(record: StatusRecord | null, now: number): StatusRecord {
    // Storage is the truth, even when it went backwards (a lost Redis): holding on to a newer
    // local epoch would make every later compare-and-set fail.
    this.#status = record ?? CLOSED
    this.#fetchedAt = now
    return this.#status
  }

  #pushed(record: StatusRecord): void {
    if (record.epoch > this.#status.epoch) this.#adopt(record, this.#config.clock())
  }

  #transition(from: StatusRecord, to: CircuitState, now: number): MaybePromise<StatusRecord> {
    // Two failures settling together in this instance race to open the same epoch: the second
    // joins the first instead of writing (and firing hooks) again.
    const running = this.#transitioning
    if (running && running.epoch === from.epoch) return running.result
    if (from.epoch !== this.#status.epoch) return this.#status
    const next: StatusRecord = {
      status: to,
      openedAt: to === 'open' ? now : to === 'half_open' ? from.openedAt : null,
      epoch: from.epoch + 1,
      updatedAt: now,
    }
    const event: TransitionMessage = { circuit: this.name, from: from.status, to, openedAt: next.openedAt, epoch: next.epoch }
    const result = this.#hooks.hasBeforeTransition
      ? andThen(this.#hooks.beforeTransition(event), (release) => this.#commit(from, next, event, release))
      : this.#commit(from, next, event, undefined)
    if (isThenable(result)) {
      const entry = { epoch: from.epoch, result }
      this.#transitioning = entry
      result.then(() => {
        if (this.#transitioning === entry) this.#transitioning = undefined
      })
    }
    return result
  }

  #commit(from: StatusRecord, next: StatusRecord, event: TransitionMessage, release: (() => unknown) | undefined): MaybePromise<StatusRecord> {
    const storage = this.#storage
    const cas = storage.capabilities.cas && storage.compareAndSetStatus
    const written = attempt(
      () => (cas ? storage.compareAndSetStatus!(this.name, from.epoch, next) : andThen(storage.setStatus(this.name, next), () => true)),
      // The storage failed: the transition still holds in this instance.
      (error) => (this.#storageFailed(cas ? 'compareAndSetStatus' : 'setStatus', error), true),
    )
    return andThen(written, (won) => {
      this.#hooks.release(release)
      if (!won) return this.#reread()
      this.#adopt(next, this.#config.clock())
      // Re-entering the state a circuit is already in (reset of a closed circuit) fires nothing.
      if (event.from !== event.to) this.#hooks.transition(event)
      return next
    })
  }

  /** Lost a compare-and-set: adopt what the winner wrote, silently. */
  #reread(): MaybePromise<StatusRecord> {
    return attempt(
      () => andThen(this.#storage.getStatus(this.name), (r) => this.#adopt(r, this.#config.clock())),
      (error) => (this.#storageFailed('getStatus', error), this.#status),
    )
  }

  #release(permit: Permit, epoch: number): void {
    if (permit === undefined) return
    if (permit === LOCAL_PERMIT) {
      if (this.#probeEpoch === epoch && this.#probes > 0) this.#probes--
      return
    }
    this.#track(attempt(() => permit.release(), (error) => void this.#storageFailed('releaseProbe', error)))
  }

  #openError(status: StatusRecord, reason: 'open' | 'half_open_full'): CircuitOpenError {
    return new CircuitOpenError(this.name, status.openedAt, reason)
  }

  #rejected<R>(error: CircuitOpenError | CircuitBulkheadError, reason: 'open' | 'half_open_full' | 'bulkhead', ctx: CallContext | undefined): Promise<R> {
    if (reason !== 'bulkhead') this.#inFlight--
    this.#hooks.reject({ circuit: this.name, reason })
    return this.#fallbackOr<R>(error, 'rejected', ctx)
  }

  #fallbackOr<R>(error: unknown, outcome: CallOutcome, ctx: CallContext | undefined): Promise<R> {
    const fallback = this.#config.fallback
    if (ctx) ctx.outcome = fallback === undefined ? outcome : 'fallback'
    if (fallback === undefined) return Promise.reject(error)
    return runFallback(fallback, error, { circuit: this.name, state: this.#status.status }) as Promise<R>
  }

  #storageFailed(operation: string, error: unknown): StorageError {
    const failure = StorageError.from(error, this.#storage.name, operation, this.name)
    this.#hooks.storageError(failure, { circuit: this.name, operation })
    return failure
  }

  /** Keeps writes the caller does not wait for, so `flush()` can. Never rejects: callers catch. */
  #track(value: MaybePromise<unknown>): void {
    if (!isThenable(value)) return
    this.#pending.add(value)
    value.then(() => this.#pending.delete(value))
  }

  // ── management ──────────────────────────────────────────────────────────────────────────

  /** Reads the status from storage now, bypassing `stateCacheTtl`; on failure answers the last known. */
  async #fresh(): Promise<StatusRecord> {
    try {
      return this.#adopt(await this.#storage.getStatus(this.name), this.#config.clock())
    } catch (error) {
      this.#storageFailed('getStatus', error)
      return this.#status
    }
  }

  async #moveTo(to: CircuitState, always: boolean): Promise<void> {
    // Compare-and-set may lose to another instance moving at the same moment; try again on
    // what it wrote. Five rounds is far more than two honest racers need.
    for (let round = 0; round < 5; round++) {
      const current = await this.#fresh()
      if (current.status === to && !always) return
      const next = await this.#transition(current, to, this.#config.clock())
      if (next.epoch > current.epoch && next.status === to) return
    }
  }

  /** Opens the circuit now (fresh `openedAt`); it recovers through half_open after `resetAfter` like any trip. */
  forceOpen(): Promise<void> {
    return this.#moveTo('open', false)
  }

  /** Closes the circuit now if it is not closed. */
  forceClose(): Promise<void> {
    return this.#moveTo('closed', false)
  }

  /**
   * Soft reset: closed under a fresh epoch, so outcomes before it no longer count toward the
   * threshold; the counts stay in storage (and in `stats()` until they leave the window).
   */
  reset(): Promise<void> {
    this.#lastFailureAt = null
    return this.#moveTo('closed', true)
  }

  /** Clears everything storage holds for this circuit and starts closed under a fresh epoch. */
  async hardReset(): Promise<void> {
    const before = await this.#fresh()
    this.#batch?.take()
    this.#lastFailureAt = null
    try {
      await this.#storage.clear(this.name)
    } catch (error) {
      this.#storageFailed('clear', error)
    }
    const next: StatusRecord = { status: 'closed', openedAt: null, epoch: before.epoch + 1, updatedAt: this.#config.clock() }
    try {
      await this.#storage.setStatus(this.name, next)
    } catch (error) {
      this.#storageFailed('setStatus', error)
    }
    this.#adopt(next, next.updatedAt)
    if (before.status !== 'closed') this.#hooks.transition({ circuit: this.name, from: before.status, to: 'closed', openedAt: null, epoch: next.epoch })
  }

  /** Swaps the storage at run time (the seed's on_storage_error HA pattern); the next call reads the new one. */
  useStorage(storage: Storage): void {
    assertStorage(storage)
    this.#unlisten()
    this.#storage = storage
    this.#timesCalls = typeof storage.eventLog === 'function'
    this.#fetchedAt = -Infinity
    this.#unlisten = listen(storage, this.name, (record) => this.#pushed(record))
  }

  /** Status and counts over the threshold window, read from storage now. */
  async stats(): Promise<CircuitStats> {
    const status = await this.#fresh()
    let counts: WindowCounts = { failures: 0, successes: 0 }
    try {
      counts = await readCounts(this.#storage, this.name, this.#config.threshold.within)
    } catch (error) {
      this.#storageFailed('failureCount', error)
    }
    return { state: status.status, ...counts, openedAt: status.openedAt, epoch: status.epoch, lastFailureAt: this.#lastFailureAt }
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
    const current = await this.#fresh()
    const now = this.#config.clock()
    const next: StatusRecord = {
      status: entry.state,
      openedAt: entry.state === 'closed' ? null : (entry.openedAt ?? now),
      epoch: Math.max(entry.epoch, current.epoch + 1),
      updatedAt: now,
    }
    try {
      await this.#storage.setStatus(this.name, next)
      const counts = await readCounts(this.#storage, this.name, this.#config.threshold.within)
      const missing = {
        failures: Math.max(0, entry.failureCount - counts.failures),
        successes: Math.max(0, entry.successCount - counts.successes),
      }
      if (missing.failures + missing.successes > 0) await recordMany(this.#storage, this.name, missing, this.#config.threshold.within)
    } catch (error) {
      this.#storageFailed('restoreState', error)
    }
    this.#lastFailureAt = entry.lastFailureAt
    this.#adopt(next, now)
  }

  /**
   * Applies a status learned elsewhere (the user's own bus) without firing hooks. A process-local
   * storage is written too, since it is this instance's own copy; a shared one already holds it.
   */
  syncState(input: SyncInput): void {
    const now = this.#config.clock()
    const known = this.#status
    const given = typeof input === 'string' ? { status: input } : input
    const record: StatusRecord = {
      status: given.status,
      openedAt: given.openedAt !== undefined ? given.openedAt : given.status === 'closed' ? null : (known.openedAt ?? now),
      epoch: given.epoch ?? known.epoch + 1,
      updatedAt: given.updatedAt ?? now,
    }
    if (record.epoch <= known.epoch && given.epoch !== undefined) return
    this.#adopt(record, now)
    if (this.#storage.capabilities.scope === 'process') {
      this.#track(attempt(() => this.#storage.setStatus(this.name, record), (e) => void this.#storageFailed('setStatus', e)))
    }
  }

  /** Writes pending batched outcomes and waits for every write the calls did not wait for. */
  async flush(): Promise<void> {
    await this.#flushBatch(this.#config.clock())
    while (this.#pending.size > 0) await Promise.all(this.#pending)
  }

  /** Flushes, stops listening to storage pushes and leaves the registry. */
  async dispose(): Promise<void> {
    await this.flush()
    this.#unlisten()
    this.#registry?.unregister(this)
  }
}
