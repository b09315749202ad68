import type { TransitionMessage } from './channels.js'
import type { CircuitConfig } from './config.js'
import { StorageError } from './errors.js'
import type { HookRunner } from './hooks.js'
import { resetDelay } from './jitter.js'
import { andThen, attempt, isThenable } from './maybe.js'
import type { CircuitSnapshot } from './snapshot.js'
import type { Storage } from './storage.js'
import { readCounts, recordMany } from './storage-ops.js'
import type { CircuitState, MaybePromise, StatusRecord } from './types.js'

/** A shared status as `syncState` accepts it: a bare state, or (part of) a status record. */
export type SyncInput = CircuitState | (Partial<StatusRecord> & { status: CircuitState })

/** The status of a circuit never written anywhere: closed, epoch 0. */
export const CLOSED: StatusRecord = Object.freeze({ status: 'closed', openedAt: null, epoch: 0, updatedAt: 0 })

/**
 * One circuit's view of its shared status: the copy it last read (trusted for
 * `stateCacheTtl`), and the transitions it writes — by compare-and-set where the storage has
 * it, so of racing instances exactly one wins and fires hooks; the others adopt silently.
 */
export class SharedStatus {
  /** Last status read, pushed or written. */
  current: StatusRecord = CLOSED
  #storage: Storage
  #timesCalls = false
  #fetchedAt = -Infinity
  #transitioning: { epoch: number; result: MaybePromise<StatusRecord> } | undefined
  #delayEpoch = -1
  #delay = 0

  constructor(
    readonly name: string,
    readonly config: CircuitConfig,
    readonly hooks: HookRunner,
    storage: Storage,
  ) {
    this.#storage = storage
    this.use(storage)
  }

  /** The storage in use. */
  get storage(): Storage {
    return this.#storage
  }

  /** The storage keeps call durations (it has an event log), so calls are worth timing. */
  get timesCalls(): boolean {
    return this.#timesCalls
  }

  /** When an open `status` may let a probe through (epoch ms): its jittered reset delay after opening. */
  halfOpenAt(status: StatusRecord): number {
    // One draw per opening, kept until the epoch moves on.
    if (this.#delayEpoch !== status.epoch) {
      this.#delayEpoch = status.epoch
      this.#delay = resetDelay(this.name, status.epoch, this.config.resetAfter, this.config.jitter)
    }
    return (status.openedAt ?? 0) + this.#delay
  }

  /** Switches storage; the next read goes to it. */
  use(storage: Storage): void {
    this.#storage = storage
    this.#timesCalls = storage.capabilities.eventLog === true
    this.#fetchedAt = -Infinity
  }

  /** Wraps and reports a storage failure (hook and channel); answers the `StorageError`. */
  failed(operation: string, error: unknown): StorageError {
    const failure = StorageError.from(error, this.#storage.name, operation, this.name)
    this.hooks.storageError(failure, { circuit: this.name, operation })
    return failure
  }

  /** The status a call is admitted under: the cached copy while fresh, else a read of storage. */
  read(): MaybePromise<StatusRecord> {
    // With no cache (the default) the read's time is never looked at, so the clock is not read.
    const ttl = this.config.stateCacheTtl
    const now = ttl > 0 ? this.config.clock() : 0
    if (ttl > 0 && now - this.#fetchedAt < ttl) return this.current
    let read: MaybePromise<StatusRecord | null>
    try {
      read = this.#storage.getStatus(this.name)
    } catch (error) {
      return this.#readFailed(error)
    }
    if (!isThenable(read)) return this.adopt(read, now)
    return read.then(
      (r) => this.adopt(r, now),
      (error: unknown) => this.#readFailed(error),
    )
  }

  #readFailed(error: unknown): MaybePromise<StatusRecord> {
    const failure = this.failed('getStatus', error)
    if (this.config.onStorageFailure === 'throw') return Promise.reject(failure)
    // Fail open: the call proceeds as if closed, under the epoch we know.
    const known = this.current
    return known.status === 'closed' ? known : { ...known, status: 'closed' }
  }

  /** Reads storage now, past the cache; on failure answers the last known status. */
  async fresh(): Promise<StatusRecord> {
    try {
      return this.adopt(await this.#storage.getStatus(this.name), this.config.clock())
    } catch (error) {
      this.failed('getStatus', error)
      return this.current
    }
  }

  /** Takes `record` (null: never written) as the current status, fresh as of `now`. */
  adopt(record: StatusRecord | null, now: number): StatusRecord {
    // Storage is the truth, even when it went backwards (a lost Redis): holding on to a newer
    // local epoch would make every later compare-and-set fail.
    this.current = record ?? CLOSED
    this.#fetchedAt = now
    return this.current
  }

  /**
   * A status pushed by the storage (or learned elsewhere): taken when newer than ours.
   * `undefined` is a resync notice: pushes may have been missed, so the next call reads storage.
   */
  pushed(record: StatusRecord | undefined): void {
    if (record === undefined) this.#fetchedAt = -Infinity
    else if (record.epoch > this.current.epoch) this.adopt(record, this.config.clock())
  }

  /** Moves from `from` to `to` at `now`; answers the status that holds afterwards, whoever wrote it. */
  transition(from: StatusRecord, to: CircuitState, now: number): MaybePromise<StatusRecord> {
    // Two failures settling together in this instance race to open the same epoch: the second
    // joins the first instead of writing (and firing hooks) again.
    const running = this.#transitioning
    if (running && running.epoch === from.epoch) return running.result
    if (from.epoch !== this.current.epoch) return this.current
    const next: StatusRecord = {
      status: to,
      openedAt: to === 'open' ? now : to === 'half_open' ? from.openedAt : null,
      epoch: from.epoch + 1,
      updatedAt: now,
    }
    const event: TransitionMessage = { circuit: this.name, from: from.status, to, openedAt: next.openedAt, epoch: next.epoch }
    const result = this.hooks.hasBeforeTransition
      ? andThen(this.hooks.beforeTransition(event), (release) => this.#commit(from, next, event, release))
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
      (error) => (this.failed(cas ? 'compareAndSetStatus' : 'setStatus', error), true),
    )
    return andThen(written, (won) => {
      this.hooks.release(release)
      if (!won) return this.#reread()
      this.adopt(next, this.config.clock())
      // Re-entering the state a circuit is already in (reset of a closed circuit) fires nothing.
      if (event.from !== event.to) this.hooks.transition(event)
      return next
    })
  }

  /** Lost a compare-and-set: adopt what the winner wrote, silently. */
  #reread(): MaybePromise<StatusRecord> {
    return attempt(
      () => andThen(this.#storage.getStatus(this.name), (r) => this.adopt(r, this.config.clock())),
      (error) => (this.failed('getStatus', error), this.current),
    )
  }

  /**
   * Moves to `to` from whatever storage holds now (`always`: even when already there, under a
   * fresh epoch). Compare-and-set may lose to another instance moving at the same moment; it
   * tries again on what that one wrote — five rounds is far more than two honest racers need.
   */
  async moveTo(to: CircuitState, always: boolean): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const current = await this.fresh()
      if (current.status === to && !always) return
      const next = await this.transition(current, to, this.config.clock())
      if (next.epoch > current.epoch && next.status === to) return
    }
  }

  /** Clears everything storage holds for the circuit and writes closed under a newer epoch. */
  async hardReset(): Promise<void> {
    const before = await this.fresh()
    try {
      await this.#storage.clear(this.name)
    } catch (error) {
      this.failed('clear', error)
    }
    const next: StatusRecord = { status: 'closed', openedAt: null, epoch: before.epoch + 1, updatedAt: this.config.clock() }
    try {
      await this.#storage.setStatus(this.name, next)
    } catch (error) {
      this.failed('setStatus', error)
    }
    this.adopt(next, next.updatedAt)
    if (before.status !== 'closed') this.hooks.transition({ circuit: this.name, from: before.status, to: 'closed', openedAt: null, epoch: next.epoch })
  }

  /** Writes a snapshot entry's status under a newer epoch and tops the counts up to its own, without hooks. */
  async restore(entry: CircuitSnapshot): Promise<void> {
    const current = await this.fresh()
    const now = this.config.clock()
    const next: StatusRecord = {
      status: entry.state,
      openedAt: entry.state === 'closed' ? null : (entry.openedAt ?? now),
      epoch: Math.max(entry.epoch, current.epoch + 1),
      updatedAt: now,
    }
    const storage = this.#storage
    const within = this.config.threshold.within
    try {
      await storage.setStatus(this.name, next)
      // Topped up rather than added, so restoring the same snapshot twice counts nothing twice.
      const counts = await readCounts(storage, this.name, within)
      const missing = {
        failures: Math.max(0, entry.failureCount - counts.failures),
        successes: Math.max(0, entry.successCount - counts.successes),
      }
      if (missing.failures + missing.successes > 0) await recordMany(storage, this.name, missing, within)
    } catch (error) {
      this.failed('restoreState', error)
    }
    this.adopt(next, now)
  }

  /**
   * Applies a status learned elsewhere without hooks; a record older than the one known is
   * ignored. Answers the write to a process-local storage (this instance's own copy), if any.
   */
  sync(input: SyncInput): MaybePromise<void> {
    const now = this.config.clock()
    const known = this.current
    const given = typeof input === 'string' ? { status: input } : input
    const record: StatusRecord = {
      status: given.status,
      openedAt: given.openedAt !== undefined ? given.openedAt : given.status === 'closed' ? null : (known.openedAt ?? now),
      epoch: given.epoch ?? known.epoch + 1,
      updatedAt: given.updatedAt ?? now,
    }
    if (record.epoch <= known.epoch && given.epoch !== undefined) return
    this.adopt(record, now)
    const storage = this.#storage
    if (storage.capabilities.scope !== 'process') return
    return attempt(() => storage.setStatus(this.name, record), (e) => void this.failed('setStatus', e))
  }
}
