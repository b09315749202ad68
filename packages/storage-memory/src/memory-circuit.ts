import type { LeaseTable, StatusRecord } from '@breaker/core'
import { EventRing } from './event-ring.js'
import { TimestampRing } from './timestamp-ring.js'

/** Everything `MemoryStorage` holds for one circuit. */
export class MemoryCircuit {
  /** Last status written, frozen; `null` until one is. */
  status: StatusRecord | null = null
  /** When each counted failure happened (epoch ms), oldest first. */
  readonly failures = new TimestampRing()
  /** When each counted success happened (epoch ms), oldest first. */
  readonly successes = new TimestampRing()
  /** The bounded detailed log (type, time, duration). */
  readonly log: EventRing
  /** Probe permits held; created on first use. */
  leases: LeaseTable | undefined = undefined
  /**
   * Newest timestamp written. A clock that steps backwards stamps new outcomes with this
   * instead, so the rings stay sorted and no outcome is lost or counted twice.
   */
  lastAt = Number.NEGATIVE_INFINITY
  constructor(maxEvents: number) {
    this.log = new EventRing(maxEvents)
  }

  /** The time to stamp an outcome written now: never older than the newest one held. */
  stamp(now: number): number {
    const at = now > this.lastAt ? now : this.lastAt
    this.lastAt = at
    return at
  }

  /**
   * Forgets outcomes older than `cutoff` (epoch ms, `maxWindowMs` before the clock's reading):
   * no window can count them any more. Measured from the reading, not the newest stamp, so a
   * clock that stepped back keeps more rather than less.
   */
  prune(cutoff: number): void {
    this.failures.dropBefore(cutoff)
    this.successes.dropBefore(cutoff)
  }
}
