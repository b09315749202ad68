import type { CircuitHandle, LeaseTable, Outcome, StatusRecord, WindowCounts } from '@breaker/core'
import { BucketRing } from './bucket-ring.js'

/** What an entry needs of its storage to act as a circuit's handle: the clock and the counting. */
export interface BucketInternals {
  /** The current epoch second. */
  second(): number
  /** Counts one outcome into `entry` and answers both counts over the window. */
  record(entry: BucketCircuit, outcome: Outcome, windowMs: number): WindowCounts
}

/**
 * Everything `BucketMemoryStorage` holds for one circuit: its ring of counters plus status
 * and probe permits, in one object so each call costs one map lookup — and none at all through
 * `bind()`, which hands the circuit this entry as its handle. An entry stays the same object for
 * as long as a circuit retains its name (a clear resets it in place), so a handle never goes stale.
 */
export class BucketCircuit extends BucketRing implements CircuitHandle {
  /** Last status written, frozen; `null` until one is. */
  status: StatusRecord | null = null
  /** Probe permits held; created on first use. */
  leases: LeaseTable | undefined = undefined

  constructor(
    size: number,
    private readonly internals: BucketInternals,
  ) {
    super(size)
  }

  /** Forgets status, counts and permits, keeping the object (and so every handle on it). */
  reset(): void {
    this.status = null
    this.leases = undefined
    this.resetCounts()
  }

  getStatus(): StatusRecord | null {
    return this.status
  }

  recordSuccess(): void {
    this.add(this.internals.second(), 0, 1)
  }

  record(outcome: Outcome, _durationMs: number, windowMs: number): WindowCounts {
    return this.internals.record(this, outcome, windowMs)
  }
}
