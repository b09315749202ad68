import { describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { ReferenceStorage as KitReferenceStorage } from '@breaker/core/kit'
import { ReferenceStorage, asyncReference } from './fixtures/reference-storage.js'

storageConformance({ describe, it, expect }, ({ clock }) => new ReferenceStorage(clock), { name: 'reference (sync)' })

// An async factory and async answers: racing calls interleave for real.
storageConformance({ describe, it, expect }, async ({ clock }) => asyncReference(clock), { name: 'reference (async)' })

// The same storage seen through per-second buckets and a bounded window.
storageConformance({ describe, it, expect }, ({ clock }) => new ReferenceStorage(clock), {
  name: 'reference (granularity 1 s, max window 5 min)',
  granularityMs: 1_000,
  maxWindowMs: 300_000,
})

// The kit's own reference storage, as a backend author would copy it (no event log).
storageConformance({ describe, it, expect }, ({ clock }) => new KitReferenceStorage({ clock }), { name: 'kit ReferenceStorage' })
