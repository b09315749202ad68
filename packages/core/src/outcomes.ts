import { PendingBatch, sweepLater } from './batch.js'
import type { Flushable } from './batch.js'
import { andThen, attempt, isThenable } from './maybe.js'
import type { PendingWrites } from './pending.js'
import type { SharedStatus } from './shared-status.js'
import { readCounts, recordMany, recordOutcome } from './storage-ops.js'
import type { CircuitState, MaybePromise, WindowCounts } from './types.js'

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

/** Call duration (ms) for storages that keep durations; 0 when the call was not timed (NaN start). */
function duration(started: number, now: number): number {
  return started === started ? Math.max(0, now - started) : 0
}

/**
 * Writes the outcomes of a circuit's calls and opens or closes it when they cross its
 * thresholds: failures against the threshold (directly, or through a batch), probe successes
 * against `successThreshold`. Outcomes of calls admitted under an older epoch are dropped.
 */
export class OutcomeRecorder implements Flushable {
  /** Last counted failure this instance saw (epoch ms), or `null`. */
  lastFailureAt: number | null = null
  readonly #shared: SharedStatus
  readonly #pending: PendingWrites
  readonly #over: (counts: WindowCounts) => boolean
  readonly #batch: PendingBatch | undefined

  constructor(shared: SharedStatus, pending: PendingWrites) {
    this.#shared = shared
    this.#pending = pending
    this.#batch = shared.config.batch ? new PendingBatch() : undefined
    const t = shared.config.threshold
    this.#over =
      'failures' in t
        ? (c) => c.failures >= t.failures
        : (c) => c.failures + c.successes >= t.minimumCalls && c.failures / (c.failures + c.successes) >= t.failureRate
  }

  /** Whether `error` counts as a failure (`isFailure`; a predicate that throws counts it, and is reported). */
  counts(error: unknown): boolean {
    const isFailure = this.#shared.config.isFailure
    if (!isFailure) return true
    try {
      return isFailure(error) !== false
    } catch (thrown) {
      this.#shared.hooks.error('isFailure', thrown)
      return true
    }
  }

  /** Status and counts over the threshold window, read from storage now. */
  async stats(): Promise<CircuitStats> {
    const shared = this.#shared
    const status = await shared.fresh()
    let counts: WindowCounts = { failures: 0, successes: 0 }
    try {
      counts = await readCounts(shared.storage, shared.name, shared.config.threshold.within)
    } catch (error) {
      shared.failed('failureCount', error)
    }
    return { state: status.status, ...counts, openedAt: status.openedAt, epoch: status.epoch, lastFailureAt: this.lastFailureAt }
  }

  /** A call admitted under `epoch` succeeded; `started` is its start (epoch ms) or NaN when untimed. */
  success(epoch: number, probe: boolean, started: number): void {
    const shared = this.#shared
    // Outcomes of calls admitted under an older epoch describe a state that no longer holds.
    if (epoch !== shared.current.epoch) return
    if (probe || this.#batch) {
      const now = shared.config.clock()
      return this.#pending.track(probe ? this.#probeSucceeded(epoch, now, duration(started, now)) : this.#batched(false, epoch, now))
    }
    const took = shared.timesCalls ? duration(started, shared.config.clock()) : 0
    // Inline rather than through attempt(): no closures on the path every success takes.
    let written: MaybePromise<void>
    try {
      written = shared.storage.recordSuccess(shared.name, took)
    } catch (error) {
      shared.failed('recordSuccess', error)
      return
    }
    if (isThenable(written)) this.#pending.track(written.then(undefined, (error: unknown) => void shared.failed('recordSuccess', error)))
  }

  /** A counted failure of a call admitted under `epoch`; settles once it is counted and acted on. */
  failure(epoch: number, probe: boolean, started: number): MaybePromise<void> {
    const shared = this.#shared
    const now = shared.config.clock()
    this.lastFailureAt = now
    if (epoch !== shared.current.epoch) return
    const took = duration(started, now)
    if (probe) {
      // One counted probe failure reopens the circuit with a fresh openedAt.
      this.#pending.track(attempt(() => shared.storage.recordFailure(shared.name, took), (e) => void shared.failed('recordFailure', e)))
      return andThen(shared.transition(shared.current, 'open', now), () => undefined)
    }
    if (this.#batch) return this.#batched(true, epoch, now)
    const counts = attempt(
      () => recordOutcome(shared.storage, shared.name, 'failure', took, this.#window(now)),
      (error) => void shared.failed('record', error),
    )
    return andThen(counts, (c) => (c ? this.#tripIfOver(c, epoch, now) : undefined))
  }

  #probeSucceeded(epoch: number, now: number, took: number): MaybePromise<void> {
    const shared = this.#shared
    // Successes since the circuit went half_open: any counted probe failure in between would
    // have reopened it, so these are consecutive.
    const since = Math.max(1, now - shared.current.updatedAt)
    const counts = attempt(
      () => recordOutcome(shared.storage, shared.name, 'success', took, since),
      (error) => (shared.failed('record', error), { failures: 0, successes: 1 }),
    )
    return andThen(counts, (c) => {
      const status = shared.current
      if (c.successes < shared.config.successThreshold || status.epoch !== epoch || status.status !== 'half_open') return
      return andThen(shared.transition(status, 'closed', now), () => undefined)
    })
  }

  #batched(failure: boolean, epoch: number, now: number): MaybePromise<void> {
    const batch = this.#batch!
    const { interval, maxSize } = this.#shared.config.batch!
    batch.add(failure, epoch, now)
    // A failure that would trip the circuit on the estimate is written at once, so the
    // decision to open is always made on counts the storage confirmed.
    if ((failure && this.#over(batch.estimate())) || batch.size >= maxSize || now - batch.since >= interval) {
      return this.flush(now)
    }
    sweepLater(this, interval)
  }

  /** Writes the pending batch, if any, and acts on the counts the storage answers. */
  flush(now: number): MaybePromise<void> {
    const batch = this.#batch
    if (!batch || batch.size === 0) return
    const shared = this.#shared
    const epoch = batch.epoch
    const taken = batch.take()
    const counts = attempt(
      () => recordMany(shared.storage, shared.name, taken, this.#window(now)),
      (error) => void shared.failed('recordBatch', error),
    )
    return andThen(counts, (c) => {
      if (!c) return
      batch.last = c
      return this.#tripIfOver(c, epoch, now)
    })
  }

  /** Called by the shared batch sweeper; answers whether outcomes are still pending. */
  sweep(): boolean {
    const batch = this.#batch
    if (!batch || batch.size === 0) return false
    const now = this.#shared.config.clock()
    if (now - batch.since >= this.#shared.config.batch!.interval) this.#pending.track(this.flush(now))
    return batch.size > 0
  }

  /** Forgets pending outcomes and the last failure (a hard reset). */
  forget(): void {
    this.#batch?.take()
    this.lastFailureAt = null
  }

  #tripIfOver(counts: WindowCounts, epoch: number, now: number): MaybePromise<void> {
    const shared = this.#shared
    const status = shared.current
    if (status.epoch !== epoch || status.status !== 'closed' || !this.#over(counts)) return
    return andThen(shared.transition(status, 'open', now), () => undefined)
  }

  /** The threshold window, starting no earlier than the last transition so old failures cannot retrip it. */
  #window(now: number): number {
    return Math.min(this.#shared.config.threshold.within, Math.max(1, now - this.#shared.current.updatedAt))
  }
}
