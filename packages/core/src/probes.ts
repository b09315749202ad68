import { attempt, isThenable } from './maybe.js'
import type { PendingWrites } from './pending.js'
import { returnProbe, takeProbe } from './state-machine.js'
import type { HalfOpenPhase } from './state-machine.js'
import type { StorageIO } from './storage-io.js'
import type { MaybePromise, ProbeLease } from './types.js'

/**
 * What a half-open call holds while it runs: a storage lease, or — where the storage has no
 * leases — the half-open phase whose local permit it took; `undefined` for a call admitted closed.
 */
export type Permit = ProbeLease | HalfOpenPhase | undefined

/**
 * The half-open probe permits of one circuit: at most `halfOpenCalls` in flight, counted
 * across every instance by the storage's leases where it has them, else by this instance in
 * the phase itself. A permit goes back when its probe settles, however it settles.
 */
export class ProbePermits {
  constructor(
    readonly io: StorageIO,
    readonly pending: PendingWrites,
    readonly max: number,
    readonly leaseTtl: number,
  ) {}

  /** A permit for a probe in `phase`, or `null` when every permit is taken. */
  acquire(phase: HalfOpenPhase): MaybePromise<Permit | null> {
    const { io } = this
    const storage = io.storage
    if (!storage.capabilities.leases || !storage.acquireProbe || phase.local) return takeProbe(phase, this.max) ? phase : null
    // A lease lapses after the call's deadline (or the reset delay), so a crashed holder
    // cannot keep the circuit half_open for ever.
    const lease = attempt(
      () => io.bound(storage.acquireProbe!(io.circuit, this.max, this.leaseTtl), 'acquireProbe'),
      (error) => (io.failed('acquireProbe', error), undefined),
    )
    // undefined: the storage failed to answer, so count locally rather than refuse the probe.
    const local = (l: ProbeLease | null | undefined): Permit | null => (l !== undefined ? l : takeProbe(phase, this.max) ? phase : null)
    return isThenable(lease) ? lease.then(local) : local(lease)
  }

  /** Gives a permit back. */
  release(permit: Permit): void {
    if (permit === undefined) return
    if ('state' in permit) return returnProbe(permit)
    const { io } = this
    this.pending.track(attempt(() => io.bound(permit.release(), 'releaseProbe'), (error) => void io.failed('releaseProbe', error)))
  }
}
