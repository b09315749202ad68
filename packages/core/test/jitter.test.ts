import { describe, expect, it } from 'vitest'
import { resetDelay } from '../src/jitter.js'

describe('jittered reset delay', () => {
  it('stays within [(1 - jitter)·resetAfter, resetAfter] and spreads across openings', () => {
    const delays = Array.from({ length: 500 }, (_, epoch) => resetDelay('payments', epoch, 30_000, 0.25))
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(22_500)
      expect(d).toBeLessThanOrEqual(30_000)
    }
    expect(Math.min(...delays)).toBeLessThan(23_500)
    expect(Math.max(...delays)).toBeGreaterThan(29_000)
  })

  it('is the same for every instance of one circuit and opening, so they agree when to probe', () => {
    expect(resetDelay('payments', 7, 30_000, 0.25)).toBe(resetDelay('payments', 7, 30_000, 0.25))
    expect(resetDelay('payments', 7, 30_000, 0.25)).not.toBe(resetDelay('payments', 9, 30_000, 0.25))
    expect(resetDelay('payments', 7, 30_000, 0.25)).not.toBe(resetDelay('search', 7, 30_000, 0.25))
  })

  it('is exactly resetAfter without jitter', () => {
    expect(resetDelay('payments', 3, 1000, 0)).toBe(1000)
  })
})
