import { describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { BucketMemoryStorage } from '@breaker/storage-bucket'

storageConformance({ describe, it, expect }, ({ clock }) => new BucketMemoryStorage({ clock }), {
  name: 'bucket',
  granularityMs: 1000,
  maxWindowMs: 300 * 1000,
})

// A small ring wraps around many times within the suite's clock moves.
storageConformance({ describe, it, expect }, ({ clock }) => new BucketMemoryStorage({ clock, bucketCount: 7 }), {
  name: 'bucket (bucketCount 7)',
  granularityMs: 1000,
  maxWindowMs: 7 * 1000,
})
