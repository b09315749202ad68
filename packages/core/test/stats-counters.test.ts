import { describe, expect, it } from 'vitest'
import { Circuit, Registry, SNAPSHOT_VERSION } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { fail, ok, rejection, setup } from './support/fixtures.js'
import { MapStorage } from './support/map-storage.js'

describe('stats() counts rejections, fallbacks and timeouts, and keeps the last error (opossum stats)', () => {
  it('counts each kind and describes the last counted failure by class, message and time', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 2, within: 60_000 }, timeout: 5, fallback: (e) => `served after ${String(e)}` })
    await circuit.call(() => Promise.reject(new TypeError('bad gateway')))
    await circuit.call(() => new Promise<never>(() => {})) // times out: the second failure opens it
    await circuit.call(ok(1)) // rejected: open
    const stats = await circuit.stats()
    expect(stats).toMatchObject({ rejections: 1, fallbacks: 3, timeouts: 1, state: 'open' })
    expect(stats.lastError).toEqual({ class: 'CircuitTimeoutError', message: expect.stringContaining('timed out after 5 ms'), at: clock() })
  })

  it('counts a timeout on a circuit with no fallback, whose callers await their own promise', async () => {
    const { circuit } = setup({ timeout: 5, threshold: { failures: 10, within: 60_000 } })
    await circuit.call(ok(1)) // outcome writes are seen to be synchronous: calls are handed over from here
    await rejection(circuit.call(() => new Promise<never>(() => {})))
    expect(await circuit.stats()).toMatchObject({ timeouts: 1, failures: 1, lastError: { class: 'CircuitTimeoutError' } })
  })

  it('keeps lastError null until a failure is counted, and ignores errors isFailure rejects', async () => {
    const { circuit } = setup({ isFailure: (e) => !(e instanceof RangeError) })
    await rejection(circuit.call(() => Promise.reject(new RangeError('not counted'))))
    expect((await circuit.stats()).lastError).toBeNull()
    await rejection(circuit.call(fail('counted')))
    expect((await circuit.stats()).lastError).toMatchObject({ class: 'Error', message: 'counted' })
  })

  it('carries the counters through exportAll() and importStates()', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const source = new Registry({ defaultStorage: storage })
    const circuit = new Circuit('snap', { registry: source, clock, threshold: { failures: 1, within: 60_000 } })
    await rejection(circuit.call(fail('down')))
    await rejection(circuit.call(ok(1)))
    const snapshot = JSON.parse(JSON.stringify(await source.exportAll(clock)))
    expect(snapshot.circuits[0]).toMatchObject({ rejections: 1, fallbacks: 0, timeouts: 0, lastError: { class: 'Error', message: 'down' } })
    const target = new Registry({ defaultStorage: new MapStorage({ clock }) })
    const restored = new Circuit('snap', { registry: target, clock })
    await target.importStates(snapshot)
    expect(await restored.stats()).toMatchObject({ rejections: 1, lastError: { class: 'Error', message: 'down' } })
  })

  it('refuses a snapshot whose lastError is not { class, message, at }', async () => {
    const target = new Registry({ defaultStorage: new MapStorage({ clock: Date.now }) })
    new Circuit('snap', { registry: target })
    const entry = { name: 'snap', state: 'closed', openedAt: null, epoch: 1, failureCount: 0, successCount: 0, lastFailureAt: null, config: {}, lastError: 'boom' }
    await expect(target.importStates({ version: SNAPSHOT_VERSION, exportedAt: 0, circuits: [entry] })).rejects.toThrowError('snapshot.lastError must be null or')
  })
})
