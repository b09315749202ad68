import { describe, expect, it } from 'vitest'
import { NullStorage } from '@breaker/core'
import type { StorageBackendHealthMessage, StorageBackendSkippedMessage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { GatedStorage, hanging, manualClock, throwing } from './fixtures/faulty.js'
import { MapStorage } from './fixtures/map-storage.js'

/** A storage that throws while `down` is true and behaves like MapStorage otherwise. */
function flaky(clock: () => number, name = 'redis'): MapStorage & { down: boolean; calls: number } {
  const map = new MapStorage(clock, name) as MapStorage & { down: boolean; calls: number }
  map.down = true
  map.calls = 0
  for (const method of ['getStatus', 'setStatus', 'compareAndSetStatus', 'recordFailure', 'recordSuccess', 'failureCount', 'successCount', 'record', 'recordBatch', 'clear', 'clearAll'] as const) {
    const inner = (map[method] as (...args: unknown[]) => unknown).bind(map)
    ;(map as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      map.calls++
      if (map.down) throw new Error('ECONNREFUSED')
      return inner(...args)
    }
  }
  return map
}

describe('backend health', () => {
  it('skips a backend after unhealthyAfter consecutive failures, until recoverAfter has passed', () => {
    const { clock, advance } = manualClock()
    const redis = flaky(clock)
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], {
      clock,
      unhealthyAfter: 3,
      recoverAfter: 1_000,
    })
    const skipped: StorageBackendSkippedMessage[] = []
    chain.on('backend_skipped', (m) => skipped.push(m))
    for (let i = 0; i < 3; i++) chain.getStatus('a')
    expect(redis.calls).toBe(3)
    chain.getStatus('a')
    advance(999)
    chain.getStatus('a')
    expect(redis.calls).toBe(3)
    expect(skipped).toHaveLength(2)
    expect(skipped[0]).toEqual({ backend: 'redis', backendIndex: 0, operation: 'getStatus', circuit: 'a', unhealthyUntil: Date.UTC(2026, 0, 1) + 1_000 })
  })

  it('tries the backend again once recoverAfter has passed, and uses it again when it answers', () => {
    const { clock, advance } = manualClock()
    const redis = flaky(clock)
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], { clock })
    for (let i = 0; i < 3; i++) chain.getStatus('a')
    advance(1_000)
    redis.down = false
    chain.getStatus('a')
    expect(redis.calls).toBe(4)
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0, unhealthyUntil: null })
  })

  it('doubles the wait after each failed probe, up to unhealthyFor', () => {
    const { clock, advance } = manualClock()
    const redis = flaky(clock)
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], {
      clock,
      unhealthyAfter: 1,
      recoverAfter: 1_000,
      unhealthyFor: 5_000,
    })
    const waits: number[] = []
    chain.on('backend_health', (m) => waits.push(m.unhealthyUntil! - clock()))
    chain.getStatus('a')
    for (let i = 0; i < 4; i++) {
      advance(waits.at(-1)!)
      chain.getStatus('a')
      chain.getStatus('a')
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 5_000, 5_000])
    expect(redis.calls).toBe(5)
    advance(5_000)
    redis.down = false
    chain.getStatus('a')
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0 })
    redis.down = true
    chain.getStatus('a')
    // A new outage starts from recoverAfter again.
    expect(chain.health()[0]).toMatchObject({ healthy: false, unhealthyUntil: clock() + 1_000 })
  })

  it('resets the failure count on a success', () => {
    const { clock } = manualClock()
    const redis = flaky(clock)
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], { clock })
    chain.getStatus('a')
    chain.getStatus('a')
    redis.down = false
    chain.getStatus('a')
    redis.down = true
    chain.getStatus('a')
    chain.getStatus('a')
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 2 })
    chain.getStatus('a')
    expect(chain.health()[0]).toMatchObject({ healthy: false, consecutiveFailures: 3 })
  })

  it('emits backend_health in both directions', () => {
    const { clock, advance } = manualClock()
    const redis = flaky(clock)
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], { clock, unhealthyAfter: 2, recoverAfter: 1000 })
    const health: StorageBackendHealthMessage[] = []
    chain.on('backend_health', (m) => health.push(m))
    chain.getStatus('a')
    chain.getStatus('a')
    advance(1000)
    redis.down = false
    chain.getStatus('a')
    expect(health).toEqual([
      { backend: 'redis', backendIndex: 0, healthy: false, consecutiveFailures: 2, unhealthyUntil: Date.UTC(2026, 0, 1) + 1000 },
      { backend: 'redis', backendIndex: 0, healthy: true, consecutiveFailures: 0, unhealthyUntil: null },
    ])
  })

  it('counts a timeout as a failure: a hanging backend is skipped after unhealthyAfter deadlines, then costs nothing', async () => {
    const { clock } = manualClock()
    const redis = hanging('redis')
    // 100 ms: well above how late a timer fires on a busy test machine (later than the deadline is a stall).
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 100 }, { storage: new MapStorage(clock), timeout: 2 }], { clock })
    for (let i = 0; i < 3; i++) await chain.getStatus('a')
    expect(redis.calls).toHaveLength(3)
    const answer = chain.getStatus('a')
    expect(answer).toBeNull()
    expect(redis.calls).toHaveLength(3)
  })

  it('lets one operation through to probe a backend once its window has passed; the others keep skipping it', async () => {
    const { clock, advance } = manualClock()
    const redis = new GatedStorage(clock, 'redis')
    redis.failing = true
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 10_000 }, { storage: memory, timeout: 2 }], { clock, unhealthyAfter: 1 })
    const first = chain.getStatus('a')
    redis.release()
    await first
    advance(30_000)
    redis.failing = false
    const probe = chain.getStatus('a')
    expect(chain.getStatus('b')).toBeNull()
    expect(redis.held).toHaveLength(1)
    redis.release()
    await probe
    expect(chain.health()[0]!.healthy).toBe(true)
  })

  it('does not let a late answer count as a success', async () => {
    const { clock } = manualClock()
    const redis = new GatedStorage(clock, 'redis')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 100 }, { storage: new MapStorage(clock), timeout: 2 }], { clock })
    await chain.getStatus('a')
    redis.release()
    await new Promise((resolve) => setImmediate(resolve))
    expect(chain.health()[0]!.consecutiveFailures).toBe(1)
  })

  it('cleanup() clears every backend, skipped ones too, and resets health', () => {
    const { clock } = manualClock()
    const redis = flaky(clock)
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: memory, timeout: 2 }], { clock, unhealthyAfter: 1 })
    chain.setStatus('a', { status: 'open', openedAt: clock(), epoch: 1, updatedAt: clock() })
    expect(chain.health()[0]!.healthy).toBe(false)
    redis.down = false
    redis.statuses.set('b', { status: 'open', openedAt: clock(), epoch: 1, updatedAt: clock() })
    const health: boolean[] = []
    chain.on('backend_health', (m) => health.push(m.healthy))
    expect(chain.cleanup()).toBeUndefined()
    expect(redis.statuses.size).toBe(0)
    expect(memory.statuses.size).toBe(0)
    expect(chain.health()).toMatchObject([{ healthy: true, consecutiveFailures: 0, owedWriteBacks: 0 }, { healthy: true }])
    expect(health).toEqual([true])
  })

  it('cleanup() tries every backend and then names those that failed', () => {
    const { clock } = manualClock()
    const memory = new MapStorage(clock, 'memory')
    memory.setStatus('a', { status: 'open', openedAt: clock(), epoch: 1, updatedAt: clock() })
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: memory, timeout: 2 }], { clock })
    expect(() => chain.cleanup()).toThrow(/cleanup failed on redis: connection refused \(clearAll\)/)
    expect(memory.statuses.size).toBe(0)
  })
})
