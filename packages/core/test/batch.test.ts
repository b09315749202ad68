import { describe, expect, it, vi } from 'vitest'
import { Circuit } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { fail, ok, rejection, setup, uniqueName } from './support/fixtures.js'
import { MapStorage } from './support/map-storage.js'

const writes = (calls: string[]) => calls.filter((c) => c.startsWith('record')).length

describe('batched outcome writes', () => {
  it('coalesces successes into one write per maxSize outcomes', async () => {
    const { circuit, storage } = setup({ batch: { interval: 60_000, maxSize: 10 } })
    for (let i = 0; i < 25; i++) await circuit.call(ok(i))
    expect(storage.calls.filter((c) => c === 'recordBatch')).toHaveLength(2)
    expect(writes(storage.calls)).toBe(2)
    await circuit.flush()
    expect(storage.events.get(circuit.name)).toHaveLength(25)
  })

  it("writes every circuit's pending batch in the same sweep, one per interval", async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const clock = manualClock()
      const storage = new MapStorage({ clock })
      const circuits = ['a', 'b', 'c'].map((name) => new Circuit(uniqueName(name), { storage, clock, registry: false, batch: { interval: 50, maxSize: 1000 } }))
      for (const circuit of circuits) for (let i = 0; i < 3; i++) await circuit.call(ok(i))
      expect(writes(storage.calls)).toBe(0)
      vi.advanceTimersByTime(50)
      // One sweep wrote all three batches, in one tick.
      expect(storage.calls.filter((c) => c === 'recordBatch')).toHaveLength(3)
      expect(circuits.map((c) => storage.events.get(c.name)?.length)).toEqual([3, 3, 3])
    } finally {
      vi.useRealTimers()
    }
  })

  it('writes at once and trips when a failure would cross the threshold', async () => {
    const { circuit, storage } = setup({ batch: { interval: 60_000, maxSize: 1000 }, threshold: { failures: 3, within: 10_000 } })
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(fail()))
    expect(writes(storage.calls)).toBe(0)
    await rejection(circuit.call(fail()))
    expect(writes(storage.calls)).toBe(1)
    expect(circuit.state).toBe('open')
  })

  it('judges the rate over written and pending outcomes together', async () => {
    const { circuit } = setup({
      batch: { interval: 60_000, maxSize: 4 },
      threshold: { failureRate: 0.5, minimumCalls: 6, within: 10_000 },
    })
    for (let i = 0; i < 4; i++) await circuit.call(ok(i)) // written: 4 successes
    for (let i = 0; i < 3; i++) await rejection(circuit.call(fail())) // pending: 3 failures → 3/7
    expect(circuit.state).toBe('closed')
    await rejection(circuit.call(fail())) // 4/8 ≥ 0.5
    expect(circuit.state).toBe('open')
  })

  it('the shared sweeper writes a batch whose traffic stopped', async () => {
    const { circuit, storage } = setup({ batch: { interval: 1, maxSize: 1000 }, clock: Date.now })
    await circuit.call(ok(1))
    await new Promise((r) => setTimeout(r, 20))
    expect(storage.events.get(circuit.name)).toHaveLength(1)
  })
})
