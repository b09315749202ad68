import { PendingBatch, sweepLater } from './batch.js'
import type { Flushable } from './batch.js'
import type { CircuitConfig } from './config.js'
import { andThen, attempt, isThenable } from './maybe.js'
import type { PendingWrites } from './pending.js'
import { afterFailure, afterProbeSuccess, isOver, windowAt } from './state-machine.js'
import type { Phase } from './state-machine.js'
import type { StatusCache } from './status-cache.js'
import { readCounts, recordMany, recordOutcome } from './storage-ops.js'
import type { Transitions } from './transitions.js'
import type { MaybePromise, WindowCounts } from './types.js'

/**
 * Outcome writes of one circuit that may be in flight at once. Past it, outcomes merge into one
 * write sent when an earlier one settles, so a storage that stops answering costs a bounded
 * amount of memory however many calls go on.
 */
export const MAX_WRITES_IN_FLIGHT = 64

/** Call duration (ms) for storages that keep durations; 0 when the call was not timed (NaN start). */
function duration(started: number, now: number): number {
  return started === started ? Math.max(0, now - started) : 0
}

/**
 * Writes the outcomes of a circuit's calls and moves it when they cross its thresholds:
 * failures against the threshold (directly, or through a batch), probe successes against
 * `successThreshold`. Outcomes of calls admitted in an earlier phase are dropped.
 */
export class OutcomeRecorder implements Flushable {
  /** Last counted failure this instance saw (epoch ms), or `null`. */
  lastFailureAt: number | null = null
  readonly #cache: StatusCache
  readonly #transitions: Transitions
  readonly #pending: PendingWrites
  readonly #config: CircuitConfig
  readonly #batch: PendingBatch | undefined
  #inFlight = 0
  // Outcomes waiting for a write slot (only while MAX_WRITES_IN_FLIGHT writes are pending).
  #merged: { failures: number; successes: number } | undefined

  constructor(cache: StatusCache, transitions: Transitions, pending: PendingWrites, config: CircuitConfig) {
    this.#cache = cache
    this.#transitions = transitions
    this.#pending = pending
    this.#config = config
    this.#batch = config.batch ? new PendingBatch() : undefined
  }

  /** Whether `error` counts as a failure (`isFailure`; a predicate that throws counts it, and is reported). */
  counts(error: unknown): boolean {
    const isFailure = this.#config.isFailure
    if (!isFailure) return true
    try {
      return isFailure(error) !== false
    } catch (thrown) {
      this.#transitions.hooks.error('isFailure', thrown)
      return true
    }
  }

  /** Counts over the threshold window, read from storage now (zeros when it fails, reported). */
  async windowCounts(): Promise<WindowCounts> {
    const { io } = this.#cache
    try {
      return await io.bound(readCounts(io.storage, io.circuit, this.#config.threshold.within), 'failureCount')
    } catch (error) {
      io.failed('failureCount', error)
      return { failures: 0, successes: 0 }
    }
  }

  /** A call admitted closed in `admitted` succeeded; `started` is its start (epoch ms) or NaN when untimed. */
  success(admitted: Phase, started: number): void {
    const cache = this.#cache
    if (admitted !== cache.phase) return
    if (this.#batch) return this.#pending.track(this.#batched(false, admitted, this.#config.clock()))
    if (this.#inFlight >= MAX_WRITES_IN_FLIGHT) return this.#merge(0, 1)
    const io = cache.io
    const took = cache.timesCalls ? duration(started, this.#config.clock()) : 0
    // Inline rather than through attempt(): no closures on the path every success takes.
    let written: MaybePromise<void>
    try {
      written = cache.handle.recordSuccess(took)
    } catch (error) {
      io.failed('recordSuccess', error)
      return
    }
    if (isThenable(written)) {
      cache.writesSync = false
      this.#track(written, 'recordSuccess')
    } else if (cache.writesSync === undefined) cache.writesSync = true
  }

  /** A write the storage answered with a promise after all: bounded and tracked like any other. */
  pendingWrite(written: PromiseLike<unknown>, operation: string): void {
    this.#cache.writesSync = false
    this.#track(written as Promise<unknown>, operation)
  }

  /** A probe admitted in `admitted` succeeded: count it, and close once enough in a row did. */
  probeSucceeded(admitted: Phase, started: number): void {
    const now = this.#config.clock()
    const io = this.#cache.io
    // Successes since the circuit went half_open: a counted probe failure in between would
    // have reopened it, so these are consecutive.
    const since = Math.max(1, now - admitted.record.updatedAt)
    const counts = attempt(
      () => io.bound(recordOutcome(io.storage, io.circuit, 'success', duration(started, now), since), 'record'),
      (error) => (io.failed('record', error), { failures: 0, successes: 1 }),
    )
    this.#pending.track(
      andThen(counts, (c) => {
        const to = afterProbeSuccess(this.#cache.phase, admitted, c.successes, this.#config.successThreshold)
        return to && andThen(this.#transitions.to(admitted, to, now), () => undefined)
      }),
    )
  }

  /** A counted failure of a call admitted in `admitted`; settles once it is counted and acted on. */
  failure(admitted: Phase, probe: boolean, started: number): MaybePromise<void> {
    const now = this.#config.clock()
    this.lastFailureAt = now
    const cache = this.#cache
    if (admitted !== cache.phase) return
    const io = cache.io
    const took = duration(started, now)
    if (probe) {
      // One counted probe failure reopens the circuit with a fresh openedAt.
      this.#track(attempt(() => io.storage.recordFailure(io.circuit, took), (e) => void io.failed('recordFailure', e)), 'recordFailure')
      return andThen(this.#transitions.to(admitted, 'open', now), () => undefined)
    }
    if (this.#batch) return this.#batched(true, admitted, now)
    if (this.#inFlight >= MAX_WRITES_IN_FLIGHT) return this.#merge(1, 0)
    // Inline rather than through attempt(): no closures on the path every counted failure takes.
    let counts: MaybePromise<WindowCounts>
    try {
      counts = cache.handle.record('failure', took, windowAt(this.#config.threshold.within, admitted, now))
    } catch (error) {
      io.failed('record', error)
      return
    }
    if (!isThenable(counts)) {
      if (cache.writesSync === undefined) cache.writesSync = true
      return this.#tripIfOver(counts, admitted, now)
    }
    this.#inFlight++
    cache.writesSync = false
    return (io.bound(counts, 'record') as Promise<WindowCounts>).then(
      (c) => {
        this.#settled()
        return this.#tripIfOver(c, admitted, now)
      },
      (error: unknown) => {
        io.failed('record', error)
        this.#settled()
      },
    )
  }

  #batched(failure: boolean, admitted: Phase, now: number): MaybePromise<void> {
    const batch = this.#batch!
    const { interval, maxSize } = this.#config.batch!
    batch.add(failure, admitted, now)
    // A failure that would trip the circuit on the estimate is written at once, so the
    // decision to open is always made on counts the storage confirmed. Otherwise the shared
    // sweeper writes every circuit's batch in the same tick, so a storage that coalesces one
    // tick's writes makes one round trip per interval, whatever the number of circuits.
    if ((failure && isOver(this.#config.threshold, batch.estimate())) || batch.size >= maxSize) return this.flush(now)
    sweepLater(this, interval)
  }

  /** Writes the pending batch, if any, and acts on the counts the storage answers. */
  flush(now: number): MaybePromise<void> {
    const batch = this.#batch
    if (!batch || batch.size === 0) return
    const admitted = batch.phase as Phase
    const io = this.#cache.io
    const taken = batch.take()
    const counts = attempt(
      () => io.bound(recordMany(io.storage, io.circuit, taken, windowAt(this.#config.threshold.within, admitted, now)), 'recordBatch'),
      (error) => void io.failed('recordBatch', error),
    )
    return andThen(counts, (c) => {
      if (!c) return
      batch.last = c
      return this.#tripIfOver(c, admitted, now)
    })
  }

  /** Called by the shared batch sweeper, every interval: writes what is pending; answers whether any is left. */
  sweep(): boolean {
    const batch = this.#batch
    if (!batch || batch.size === 0) return false
    this.#pending.track(this.flush(this.#config.clock()))
    return batch.size > 0
  }

  /** Forgets pending outcomes and the last failure (a hard reset). */
  forget(): void {
    this.#batch?.take()
    this.#merged = undefined
    this.lastFailureAt = null
  }

  #tripIfOver(counts: WindowCounts, admitted: Phase, now: number): MaybePromise<void> {
    const to = afterFailure(this.#cache.phase, admitted, this.#config.threshold, counts)
    return to && andThen(this.#transitions.to(admitted, to, now), () => undefined)
  }

  /** Keeps an unawaited write in the in-flight count until it settles (bounded by storageTimeout). */
  #track(written: MaybePromise<unknown>, operation: string): void {
    if (!isThenable(written)) return
    this.#inFlight++
    const io = this.#cache.io
    this.#pending.track(
      (io.bound(written, operation) as Promise<unknown>).then(
        () => this.#settled(),
        (error: unknown) => {
          io.failed(operation, error)
          this.#settled()
        },
      ),
    )
  }

  #merge(failures: number, successes: number): void {
    const merged = (this.#merged ??= { failures: 0, successes: 0 })
    merged.failures += failures
    merged.successes += successes
  }

  /** A write settled: send what merged meanwhile as one write, and act on its counts. */
  #settled(): void {
    this.#inFlight--
    const merged = this.#merged
    if (!merged) return
    this.#merged = undefined
    const io = this.#cache.io
    const admitted = this.#cache.phase
    const now = this.#config.clock()
    const counts = attempt(
      () => recordMany(io.storage, io.circuit, merged, windowAt(this.#config.threshold.within, admitted, now)),
      (error) => void io.failed('recordBatch', error),
    )
    this.#track(
      andThen(counts, (c) => c && this.#tripIfOver(c, admitted, now)),
      'recordBatch',
    )
  }
}
