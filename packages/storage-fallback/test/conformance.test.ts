import { describe, expect, it } from 'vitest'
import { NullStorage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { MemoryStorage } from '@breaker/storage-memory'
import { storageConformance } from '@breaker/storage-test-suite'
import { asyncOf, hanging, rejecting, throwing } from './fixtures/faulty.js'

storageConformance(
  { describe, it, expect },
  ({ clock }) =>
    new FallbackChainStorage(
      [
        { storage: new MemoryStorage({ clock }), timeout: 5 },
        { storage: new NullStorage(), timeout: 1 },
      ],
      { clock },
    ),
  { name: 'fallback [memory, null]', maxWindowMs: 300_000 },
)

storageConformance(
  { describe, it, expect },
  ({ clock }) =>
    new FallbackChainStorage(
      { primary: { storage: throwing('redis'), timeout: 5 }, fallback: { storage: new MemoryStorage({ clock }), timeout: 2 }, final: { storage: new NullStorage(), timeout: 1 } },
      { clock },
    ),
  { name: 'fallback [throwing, memory, null]', maxWindowMs: 300_000 },
)

storageConformance(
  { describe, it, expect },
  ({ clock }) =>
    new FallbackChainStorage(
      [
        { storage: hanging('redis'), timeout: 1 },
        { storage: rejecting('sysv'), timeout: 1 },
        { storage: new MemoryStorage({ clock }), timeout: 2 },
        { storage: new NullStorage(), timeout: 1 },
      ],
      { clock },
    ),
  { name: 'fallback [hanging, rejecting, memory, null]', maxWindowMs: 300_000 },
)

storageConformance(
  { describe, it, expect },
  ({ clock }) =>
    new FallbackChainStorage(
      ({ timeout }) => [
        { storage: asyncOf(new MemoryStorage({ clock })), timeout: timeout * 0.9 },
        { storage: new NullStorage(), timeout: timeout * 0.1 },
      ],
      { clock, timeout: 1000 },
    ),
  { name: 'fallback [async memory, null]', maxWindowMs: 300_000 },
)

storageConformance({ describe, it, expect }, ({ clock }) => new FallbackChainStorage([{ storage: new NullStorage() }], { clock }), {
  name: 'fallback [null]',
  persistent: false,
})
