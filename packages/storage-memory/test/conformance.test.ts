import { describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { MemoryStorage } from '@breaker/storage-memory'

storageConformance({ describe, it, expect }, ({ clock }) => new MemoryStorage({ clock }), {
  name: 'memory',
  maxWindowMs: 300_000,
})

// A log too small for the suite's event-log checks still counts exactly.
storageConformance({ describe, it, expect }, ({ clock }) => new MemoryStorage({ clock, maxEvents: 3, maxWindowMs: 3_600_000 }), {
  name: 'memory (maxEvents 3, maxWindowMs 1 h)',
  maxWindowMs: 3_600_000,
})
