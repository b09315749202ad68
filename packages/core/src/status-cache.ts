import { isThenable } from './maybe.js'
import { CLOSED, afterRead, phaseOf } from './state-machine.js'
import type { Phase, Timing } from './state-machine.js'
import type { StorageIO } from './storage-io.js'
import type { CircuitHandle, MaybePromise, StatusRecord } from './types.js'

/**
 * The one status cache of a circuit: the phase it last read, pushed or wrote, trusted for
 * `stateCacheTtl` ms measured on the monotonic clock (`performance.now()`), so a wall clock
 * stepping back cannot make a stale copy look fresh. A push replaces it at once; a resync notice
 * expires it.
 */
export class StatusCache {
  /** The phase calls are admitted under. */
  phase: Phase
  /** The circuit's handle on the storage in use (kept here: the per-call path reads one object). */
  handle: CircuitHandle
  /** The storage keeps call durations (it declares an event log), so calls are worth timing. */
  timesCalls: boolean
  /**
   * Whether outcome writes answer synchronously: unknown until one is seen, false as soon as one
   * answers a promise. Only with synchronous writes can a trip be written before the caller resumes.
   */
  writesSync: boolean | undefined = undefined
  #fetchedAt = -Infinity

  constructor(
    readonly io: StorageIO,
    readonly ttl: number,
    readonly timing: Timing,
    readonly failOpen: boolean,
  ) {
    this.phase = phaseOf(CLOSED, false, timing)
    this.handle = io.handle
    this.timesCalls = io.storage.capabilities.eventLog === true
  }

  /** The phase a call is admitted under: the cached one while fresh, else a read of storage. */
  read(): MaybePromise<Phase> {
    // With no cache (the default) the time of a read is never looked at: no clock is read.
    if (this.ttl > 0 && performance.now() - this.#fetchedAt < this.ttl) return this.phase
    let read: MaybePromise<StatusRecord | null>
    try {
      read = this.handle.getStatus()
    } catch (error) {
      return this.#readFailed(error)
    }
    if (!isThenable(read)) {
      // Unchanged since the last read (the common case): nothing to adopt, not even a time.
      const known = this.phase
      if ((read === known.record || (read === null && known.record === CLOSED)) && this.ttl === 0) return known
      return this.adopt(read)
    }
    return (this.io.bound(read, 'getStatus') as Promise<StatusRecord | null>).then(
      (record) => this.adopt(record),
      (error: unknown) => this.#readFailed(error),
    )
  }

  /** Reads storage now, past the cache; on failure answers the phase last known. */
  async fresh(): Promise<Phase> {
    try {
      return this.adopt(await this.io.bound(this.io.storage.getStatus(this.io.circuit), 'getStatus'))
    } catch (error) {
      this.io.failed('getStatus', error)
      return this.phase
    }
  }

  /** Takes a record read from storage (`null`: never written), fresh as of now. */
  adopt(record: StatusRecord | null): Phase {
    this.phase = afterRead(this.phase, record ?? CLOSED, this.timing)
    if (this.ttl > 0) this.#fetchedAt = performance.now()
    return this.phase
  }

  /**
   * Takes a record storage answered after refusing a compare-and-set: storage is reachable and
   * the truth, so even a local trip gives way to it.
   */
  replace(record: StatusRecord | null): Phase {
    if (this.phase.local) this.phase = phaseOf(record ?? CLOSED, false, this.timing)
    return this.adopt(record)
  }

  /** Takes a phase this instance wrote (or holds locally), fresh as of now. */
  set(phase: Phase): Phase {
    this.phase = phase
    if (this.ttl > 0) this.#fetchedAt = performance.now()
    return phase
  }

  /** A pushed record replaces the cached phase at once; `undefined` (a resync notice) expires it. */
  pushed(record: StatusRecord | undefined): void {
    if (record === undefined) this.#fetchedAt = -Infinity
    else if (record.epoch > this.phase.record.epoch || !this.phase.local) this.adopt(record)
  }

  /** The storage was swapped: take its handle, and read it on the next call. */
  storageChanged(): void {
    this.handle = this.io.handle
    this.timesCalls = this.io.storage.capabilities.eventLog === true
    this.writesSync = undefined
    this.#fetchedAt = -Infinity
  }

  #readFailed(error: unknown): MaybePromise<Phase> {
    const failure = this.io.failed('getStatus', error)
    if (!this.failOpen) return Promise.reject(failure)
    // Fail open: the call proceeds as if closed, under the epoch last known. A local phase is
    // the exception: storage refused to hear of it, and a local trip holds until its own reset
    // delay passes.
    const known = this.phase
    if (known.state === 'closed' || known.local) return known
    return (this.phase = phaseOf({ ...known.record, status: 'closed', openedAt: null }, false, this.timing))
  }
}
