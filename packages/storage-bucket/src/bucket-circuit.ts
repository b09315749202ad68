import type { LeaseTable, StatusRecord } from '@breaker/core'
import { BucketRing } from './bucket-ring.js'

/**
 * Everything `BucketMemoryStorage` holds for one circuit: its ring of counters plus status
 * and probe permits, in one object so each call costs one map lookup.
 */
export class BucketCircuit extends BucketRing {
  /** Last status written, frozen; `null` until one is. */
  status: StatusRecord | null = null
  /** Probe permits held; created on first use. */
  leases: LeaseTable | undefined = undefined
  /** True once the storage dropped this entry (clear, clearAll, idle release): handles look it up again. */
  dropped = false
}
