import { describe, expect, it } from 'vitest'
import { BucketMemoryStorage } from '@breaker/storage-bucket'

const START = Date.UTC(2026, 0, 1)
const MAX_CELL = 2 ** 32 - 1

function setup(bucketCount = 10) {
  let now = START
  const storage = new BucketMemoryStorage({ clock: () => now, bucketCount })
  return { storage, advance: (ms: number) => void (now += ms) }
}

describe('BucketMemoryStorage counts past 2^32', () => {
  it('saturates a bucket at 4 294 967 295 instead of wrapping, and the running sum agrees', () => {
    const { storage, advance } = setup()
    expect(storage.failureCount('c', 5_000)).toBe(0) // starts a running sum over the window
    expect(storage.recordBatch('c', { failures: 2 ** 32, successes: 3 }, 5_000)).toEqual({ failures: MAX_CELL, successes: 3 })
    expect(storage.recordBatch('c', { failures: 7, successes: 0 }, 5_000)).toEqual({ failures: MAX_CELL, successes: 3 })
    // A fresh sum over the cells sees the same as the running one.
    expect(storage.failureCount('c', 4_000)).toBe(MAX_CELL)
    advance(1_000)
    storage.recordFailure('c', 0)
    expect(storage.failureCount('c', 5_000)).toBe(MAX_CELL + 1)
  })

  it('forgets a saturated bucket once it leaves the window, instead of reporting it for good', () => {
    const { storage, advance } = setup()
    expect(storage.failureCount('c', 5_000)).toBe(0)
    storage.recordBatch('c', { failures: 2 ** 32, successes: 0 }, 5_000)
    advance(7_000)
    expect(storage.failureCount('c', 5_000)).toBe(0)
    storage.recordFailure('c', 0)
    expect(storage.failureCount('c', 5_000)).toBe(1)
    advance(10_000) // the saturated bucket's slot is reused by a new second
    expect(storage.record('c', 'success', 0, 5_000)).toEqual({ failures: 0, successes: 1 })
  })

  it('reads batch counts that are not whole numbers >= 0 as their whole part, or 0', () => {
    const { storage } = setup()
    expect(storage.recordBatch('c', { failures: 2.7, successes: -4 }, 5_000)).toEqual({ failures: 2, successes: 0 })
    expect(storage.recordBatch('c', { failures: Number.NaN, successes: Number.POSITIVE_INFINITY }, 5_000)).toEqual({
      failures: 2,
      successes: MAX_CELL,
    })
  })

  it('answers safe integers >= 0 however large and many the batches, across the whole ring', () => {
    const { storage, advance } = setup(86_400)
    let last = 0
    for (let i = 0; i < 50; i++) {
      const { failures } = storage.recordBatch('c', { failures: Number.MAX_SAFE_INTEGER, successes: 0 }, 86_400_000)
      expect(Number.isSafeInteger(failures) && failures >= last).toBe(true)
      last = failures
      advance(1_000)
    }
    expect(last).toBe(50 * MAX_CELL)
  })
})
