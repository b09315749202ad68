import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '@breaker/storage-memory'

const START = Date.UTC(2026, 0, 1)

function setup(options: { maxEvents?: number; maxWindowMs?: number } = {}) {
  let now = START
  const storage = new MemoryStorage({ clock: () => now, ...options })
  return { storage, advance: (ms: number) => void (now += ms) }
}

describe('MemoryStorage batches of any size', () => {
  it('imports 300 000 000 outcomes in O(1) memory: one entry, not one Float64 per outcome', () => {
    const { storage } = setup({ maxEvents: 10 })
    expect(storage.recordBatch('c', { failures: 300_000_000, successes: 2 }, 60_000)).toEqual({ failures: 300_000_000, successes: 2 })
    const { outcomes, bytes } = storage.footprint('c')
    expect(outcomes).toBe(300_000_002)
    expect(bytes).toBeLessThan(4_096)
  })

  it('keeps single outcomes and batches in order, each leaving the window on its own', () => {
    const { storage, advance } = setup({ maxEvents: 0 })
    storage.recordFailure('c', 1)
    advance(10)
    storage.recordBatch('c', { failures: 1_000_000, successes: 0 }, 60_000)
    storage.recordFailure('c', 1) // same instant as the batch: joins its entry
    advance(10)
    storage.recordFailure('c', 1)
    expect(storage.failureCount('c', 60_000)).toBe(1_000_003)
    expect(storage.failureCount('c', 10)).toBe(1_000_002)
    expect(storage.failureCount('c', 0)).toBe(1)
    advance(60_000 - 9) // windows include their start: the batch leaves 60 001 ms after it was written
    expect(storage.failureCount('c', 60_000)).toBe(1)
    advance(20)
    expect(storage.failureCount('c', 60_000)).toBe(0)
    // Every weighted entry gone: back to 8 bytes an outcome.
    storage.recordFailure('c', 1)
    expect(storage.footprint('c').bytes).toBeLessThanOrEqual(64 * 8 * 2 + 1024)
  })

  it('saturates at Number.MAX_SAFE_INTEGER: counts stay safe integers >= 0 and never decrease', () => {
    const { storage, advance } = setup({ maxEvents: 0, maxWindowMs: 3_600_000 })
    let last = 0
    for (let i = 0; i < 5; i++) {
      const { failures } = storage.recordBatch('c', { failures: Number.MAX_SAFE_INTEGER, successes: 0 }, 3_600_000)
      expect(Number.isSafeInteger(failures)).toBe(true)
      expect(failures).toBeGreaterThanOrEqual(last)
      last = failures
      advance(1_000)
    }
    expect(last).toBe(Number.MAX_SAFE_INTEGER)
    // Outcomes past saturation are not kept; once the saturated batch leaves, counting starts afresh.
    advance(3_600_000)
    expect(storage.failureCount('c', 3_600_000)).toBe(0)
    expect(storage.recordBatch('c', { failures: 7, successes: 0 }, 1_000).failures).toBe(7)
  })

  it('reads batch counts that are not whole numbers >= 0 as their whole part, or 0', () => {
    const { storage } = setup()
    expect(storage.recordBatch('c', { failures: 2.7, successes: -4 }, 5_000)).toEqual({ failures: 2, successes: 0 })
    expect(storage.recordBatch('c', { failures: Number.NaN, successes: 1 }, 5_000)).toEqual({ failures: 2, successes: 1 })
  })
})
