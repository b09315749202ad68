import { describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { MapStorage } from './support/map-storage.js'

describe('smoke', () => {
  it('opens after 3 failures and rejects', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const c = new Circuit('smoke', { storage, clock, registry: false, threshold: { failures: 3, within: 1000 } })
    for (let i = 0; i < 3; i++) await expect(c.call(() => Promise.reject(new Error('x')))).rejects.toThrow('x')
    expect(c.state).toBe('open')
    const e = await c.call(() => 1).catch((x) => x)
    expect(isCircuitOpenError(e)).toBe(true)
  })
})
