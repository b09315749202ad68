import { attempt, isThenable } from './maybe.js'
import type { PendingWrites } from './pending.js'
import type { SharedStatus } from './shared-status.js'
import type { MaybePromise, ProbeLease, StatusRecord } from './types.js'

/** A permit counted by this instance alone (the storage offers no leases). */
export const LOCAL_PERMIT = true

/** What a half-open call holds while it runs; `undefined` for a call admitted closed. */
export type Permit = ProbeLease | typeof LOCAL_PERMIT | undefined

/**
 * The half-open probe permits of one circuit: at most `halfOpenCalls` in flight, counted
 * across every instance by the storage's leases where it has them, else by this instance.
 * A permit goes back when its probe settles, however it settles.
 */
export class ProbePermits {
  readonly #shared: SharedStatus
  readonly #pending: PendingWrites
  #held = 0
  #epoch = -1

  constructor(shared: SharedStatus, pending: PendingWrites) {
    this.#shared = shared
    this.#pending = pending
  }

  /** A permit for a probe under `status`, or `null` when every permit is taken. */
  acquire(status: StatusRecord): MaybePromise<Permit | null> {
    const shared = this.#shared
    const { storage, config } = shared
    if (!storage.capabilities.leases || !storage.acquireProbe) return this.#local(status)
    // A lease lapses after the call's deadline (or the reset delay), so a crashed holder
    // cannot keep the circuit half_open for ever.
    const ttl = config.timeout ?? config.resetAfter
    const lease = attempt(
      () => storage.acquireProbe!(shared.name, config.halfOpenCalls, ttl),
      (error) => (shared.failed('acquireProbe', error), undefined),
    )
    // undefined: the storage failed to answer, so count locally rather than refuse the probe.
    return isThenable(lease) ? lease.then((l) => (l === undefined ? this.#local(status) : l)) : lease === undefined ? this.#local(status) : lease
  }

  #local(status: StatusRecord): Permit | null {
    if (this.#epoch !== status.epoch) {
      this.#epoch = status.epoch
      this.#held = 0
    }
    if (this.#held >= this.#shared.config.halfOpenCalls) return null
    this.#held++
    return LOCAL_PERMIT
  }

  /** Gives back the permit of a probe admitted under `epoch`. */
  release(permit: Permit, epoch: number): void {
    if (permit === undefined) return
    if (permit === LOCAL_PERMIT) {
      // Permits of an older epoch were already forgotten when the epoch moved on.
      if (this.#epoch === epoch && this.#held > 0) this.#held--
      return
    }
    const shared = this.#shared
    this.#pending.track(attempt(() => permit.release(), (error) => void shared.failed('releaseProbe', error)))
  }
}
