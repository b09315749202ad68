import type { ProbeLease, StatusRecord } from '@breaker/core'
import { BucketRing } from './bucket-ring.js'

/**
 * Everything `BucketMemoryStorage` holds for one circuit: its ring of counters plus status
 * and probe permits, in one object so each call costs one map lookup.
 */
export class BucketCircuit extends BucketRing {
  /** Last status written, frozen; `null` until one is. */
  status: StatusRecord | null = null
  /** Probe permits held: lease id → expiresAt (epoch ms). Created on first use. */
  leases: Map<string, number> | undefined = undefined

  /** Hands out a permit if fewer than `max` unexpired ones are held. */
  acquire(id: string, now: number, max: number, ttlMs: number): ProbeLease | null {
    const leases = (this.leases ??= new Map())
    for (const [held, expiresAt] of leases) if (expiresAt <= now) leases.delete(held)
    if (leases.size >= max) return null
    const expiresAt = now + ttlMs
    leases.set(id, expiresAt)
    return {
      id,
      expiresAt,
      // Deleting by id makes a second release, or a release after lapsing, a no-op.
      release: () => {
        leases.delete(id)
      },
    }
  }
}
