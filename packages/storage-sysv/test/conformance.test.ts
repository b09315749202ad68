import { afterAll, describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import type { SysVStorage } from '@breaker/storage-sysv'
import { destroyAll, freshStorage } from './helpers.js'

afterAll(destroyAll)

storageConformance({ describe, it, expect }, ({ clock }) => freshStorage({ clock }), {
  name: 'sysv',
  granularityMs: 1000,
  maxWindowMs: 300_000,
  // Each test's segment goes away with it, so none outlives the run.
  teardown: (storage: SysVStorage) => storage.destroy(),
})
