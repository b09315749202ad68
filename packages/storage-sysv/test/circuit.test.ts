import { afterEach, describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '@breaker/core'
import { destroyAll, freshPath, freshStorage } from './helpers.js'
import { killWorkers, runAll, startWorkers } from './workers.js'

afterEach(async () => {
  await killWorkers()
  destroyAll()
})

describe('circuits in several processes on one segment', () => {
  it('4 processes racing to trip one circuit: exactly one fires open, all end open', async () => {
    const path = freshPath()
    const storage = freshStorage({ path })
    const workers = await startWorkers(4, () => ({
      path,
      action: 'trip',
      circuit: 'payments',
      failures: 10,
      calls: 10,
      barrier: 'start',
      parties: 4,
    }))
    const results = (await runAll(workers)) as { opens: number; rejected: number; state: string }[]
    expect(results.reduce((sum, result) => sum + result.opens, 0)).toBe(1)
    expect(storage.getStatus('payments')).toMatchObject({ status: 'open', epoch: 1 })
    // Whoever lost the race adopted the winner's open state.
    for (const result of results) expect(result.state).toBe('open')
  })

  it('a circuit opened through one process is rejected in another at its next call', async () => {
    const path = freshPath()
    const here = new Circuit('search', { storage: freshStorage({ path }), registry: false, threshold: { failures: 1, within: 60_000 } })
    const there = new Circuit('search', { storage: freshStorage({ path }), registry: false, threshold: { failures: 1, within: 60_000 } })
    await expect(there.call(() => 'fine')).resolves.toBe('fine')
    await here.call(() => Promise.reject(new Error('down'))).catch(() => undefined)
    expect(here.state).toBe('open')
    const error = await there.call(() => 'should not run').catch((e: unknown) => e)
    expect(isCircuitOpenError(error)).toBe(true)
  })

  it('a pushed transition reaches a circuit that trusts its cached state for a minute', async () => {
    const path = freshPath()
    const options = { registry: false as const, threshold: { failures: 1, within: 60_000 } }
    const here = new Circuit('cached', { ...options, storage: freshStorage({ path, watchIntervalMs: 2 }) })
    const there = new Circuit('cached', { ...options, storage: freshStorage({ path, watchIntervalMs: 2 }), stateCacheTtl: 60_000 })
    try {
      await expect(there.call(() => 'fine')).resolves.toBe('fine')
      await here.call(() => Promise.reject(new Error('down'))).catch(() => undefined)
      // Without the push, `there` would trust its closed copy for another minute.
      const deadline = Date.now() + 5_000
      while (there.state !== 'open' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
      const error = await there.call(() => 'should not run').catch((e: unknown) => e)
      expect(isCircuitOpenError(error)).toBe(true)
    } finally {
      await Promise.all([here.dispose(), there.dispose()])
    }
  })

  it('half_open hands out one probe permit across every sharer of the segment', async () => {
    let now = Date.UTC(2026, 0, 1)
    const clock = () => now
    const path = freshPath()
    const options = { registry: false as const, threshold: { failures: 1, within: 60_000 }, resetAfter: 1_000, jitter: 0, halfOpenCalls: 1, clock }
    const a = new Circuit('probe', { ...options, storage: freshStorage({ path, clock }) })
    const b = new Circuit('probe', { ...options, storage: freshStorage({ path, clock }) })
    await a.call(() => Promise.reject(new Error('down'))).catch(() => undefined)
    now += 1_500
    let release!: () => void
    const probe = a.call(() => new Promise<string>((resolve) => (release = () => resolve('recovered'))))
    const second = await b.call(() => 'should not run').catch((e: unknown) => e)
    expect(isCircuitOpenError(second)).toBe(true)
    release()
    await expect(probe).resolves.toBe('recovered')
    expect(a.state).toBe('closed')
  })
})
