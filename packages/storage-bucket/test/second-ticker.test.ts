import { afterEach, describe, expect, it, vi } from 'vitest'

describe('the shared second ticker (default clock)', () => {
  afterEach(() => {
    vi.useRealTimers()
    vi.resetModules()
  })

  it('answers the current second without reading the clock per call, and moves at each boundary', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 0, 0, 0, 400), toFake: ['Date', 'setTimeout'] })
    const { currentSecond } = await import('../src/second-ticker.js')
    const start = Date.UTC(2026, 0, 1) / 1000
    expect(currentSecond()).toBe(start)
    const now = vi.spyOn(Date, 'now')
    for (let i = 0; i < 100; i++) currentSecond()
    expect(now).not.toHaveBeenCalled()
    vi.advanceTimersByTime(599)
    expect(currentSecond()).toBe(start)
    vi.advanceTimersByTime(1)
    expect(currentSecond()).toBe(start + 1)
    vi.advanceTimersByTime(5_000)
    expect(currentSecond()).toBe(start + 6)
  })

  it('puts outcomes recorded with the default clock into the current second', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 0, 0, 0, 900), toFake: ['Date', 'setTimeout'] })
    const { BucketMemoryStorage } = await import('../src/index.js')
    const storage = new BucketMemoryStorage({ bucketCount: 10 })
    storage.recordSuccess('c', 0)
    vi.advanceTimersByTime(2_000)
    storage.recordFailure('c', 0)
    expect(storage.successCount('c', 1_000)).toBe(0) // two seconds ago, outside a 1 s window
    expect(storage.failureCount('c', 1_000)).toBe(1)
    expect(storage.successCount('c', 3_000)).toBe(1)
  })
})
