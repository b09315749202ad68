import { stat } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { NullStorage } from '@breaker/core'
import type { StatusRecord, StorageBackendHealthMessage, StorageNotice } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { deferred, hanging, manualClock, stall } from './fixtures/faulty.js'
import { MapStorage } from './fixtures/map-storage.js'

const open = (epoch: number, at: number): StatusRecord => ({ status: 'open', openedAt: at, epoch, updatedAt: at })
const nextCheckPhase = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('chain health rules', () => {
  it('does not count deadlines missed because this process stalled: 10 operations in flight over a 60 ms stall', async () => {
    const { clock } = manualClock()
    const redis = hanging('redis')
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 20 }, { storage: memory, timeout: 5 }], { clock })
    const pending = Array.from({ length: 10 }, (_, i) => chain.getStatus(`c${i}`))
    stall(60)
    expect(await Promise.all(pending)).toEqual(Array(10).fill(null))
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0 })
  })

  it('takes an answer that was already there when its deadline fired, read in the same turn of the event loop', async () => {
    const { clock } = manualClock()
    const memory = new MapStorage(clock, 'memory')
    memory.setStatus('a', open(1, clock()))
    // Answers once a real file-system call completes: the answer comes from libuv's poll phase,
    // which runs after the timers phase in each turn of the event loop.
    const io = Object.assign(Object.create(new MapStorage(clock, 'redis')) as MapStorage, {
      getStatus: (circuit: string) => stat(import.meta.filename).then(() => (circuit === 'a' ? open(7, 0) : null)),
    })
    const chain = new FallbackChainStorage([{ storage: io, timeout: 100 }, { storage: memory, timeout: 5 }], { clock, unhealthyAfter: 1 })
    await nextCheckPhase()
    const answer = chain.getStatus('a')
    // Busy for longer than the deadline but not twice as long: the timer fires late, not stalled.
    // (Long enough for the thread pool to finish the stat even on a loaded machine.)
    stall(150)
    expect(await answer).toEqual(open(7, 0))
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0 })
  })

  it('does not count a deadline missed while the backend answered other operations: a queue, not an outage', async () => {
    const { clock } = manualClock()
    const redis = deferred('redis')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 100 }, { storage: new MapStorage(clock, 'memory'), timeout: 5 }], {
      clock,
      unhealthyAfter: 1,
    })
    const slow = chain.getStatus('a')
    const quick = chain.getStatus('b')
    redis.held[1]!.resolve(null)
    await quick
    expect(await slow).toBeNull()
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0 })
    const alone = chain.getStatus('c')
    expect(await alone).toBeNull()
    expect(chain.health()[0]).toMatchObject({ healthy: false, consecutiveFailures: 1 })
  })

  it('lets no operation started before the mark clear it or push it further out', async () => {
    const { clock, advance } = manualClock()
    const redis = deferred('redis')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 60_000 }, { storage: new NullStorage(), timeout: 1 }], {
      clock,
      unhealthyAfter: 3,
      recoverAfter: 1_000,
    })
    const health: StorageBackendHealthMessage[] = []
    chain.on('backend_health', (m) => health.push(m))
    const pending = Array.from({ length: 6 }, (_, i) => chain.getStatus(`c${i}`))
    for (const call of redis.held.slice(0, 3)) call.reject(new Error('ECONNRESET'))
    await Promise.all(pending.slice(0, 3))
    expect(chain.health()[0]).toMatchObject({ healthy: false, unhealthyUntil: clock() + 1_000 })
    advance(500)
    redis.held[3]!.reject(new Error('ECONNRESET'))
    redis.held[4]!.resolve(null)
    await Promise.all(pending.slice(3, 5))
    expect(chain.health()[0]).toMatchObject({ healthy: false, unhealthyUntil: clock() + 500 })
    expect(health.map((m) => m.healthy)).toEqual([false])
    advance(500)
    const probe = chain.getStatus('p')
    redis.held[6]!.resolve(null)
    await probe
    expect(chain.health()[0]).toMatchObject({ healthy: true })
    redis.held[5]!.reject(new Error('ECONNRESET'))
    await pending[5]
    expect(health.map((m) => m.healthy)).toEqual([false, true])
  })

  it('skips a backend that is not ready() without counting it, owes it the writes, and uses it once ready', async () => {
    const { clock } = manualClock()
    const redis = new MapStorage(clock, 'redis')
    let ready = false
    const connecting = Object.assign(Object.create(redis) as MapStorage, { ready: () => ready })
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: connecting, timeout: 5 }, { storage: memory, timeout: 2 }], { clock, unhealthyAfter: 1 })
    const skipped: number[] = []
    chain.on('backend_skipped', (m) => skipped.push(m.unhealthyUntil))
    chain.setStatus('a', open(1, clock()))
    for (let i = 0; i < 5; i++) chain.getStatus('a')
    expect(redis.statuses.size).toBe(0)
    expect(skipped).toEqual([0, 0, 0, 0, 0, 0])
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0, owedWriteBacks: 1 })
    ready = true
    expect(chain.getStatus('a')).toEqual(open(1, clock()))
    expect(redis.getStatus('a')).toEqual(open(1, clock()))
  })

  it('tells subscribers to re-read when it stops reading from a backend and when it reads from it again', () => {
    const { clock, advance } = manualClock()
    const redis = new MapStorage(clock, 'redis')
    let down = true
    const flaky = Object.assign(Object.create(redis) as MapStorage, {
      getStatus: (circuit: string) => {
        if (down) throw new Error('ECONNREFUSED')
        return redis.getStatus(circuit)
      },
    })
    let ready = true
    const connecting = Object.assign(Object.create(flaky) as MapStorage, { ready: () => ready })
    const chain = new FallbackChainStorage([{ storage: connecting, timeout: 5 }, { storage: new MapStorage(clock, 'memory'), timeout: 2 }], {
      clock,
      unhealthyAfter: 1,
    })
    const notices: StorageNotice[] = []
    chain.subscribe!((notice) => notices.push(notice))
    chain.getStatus('a')
    expect(notices).toEqual([{ resync: true }])
    advance(1_000)
    down = false
    chain.getStatus('a')
    expect(notices).toEqual([{ resync: true }, { resync: true }])
    ready = false
    chain.getStatus('a')
    ready = true
    chain.getStatus('a')
    expect(notices).toHaveLength(4)
  })

  it("forwards a backend's own resync notices to the chain's subscribers", () => {
    const { clock } = manualClock()
    const redis = new MapStorage(clock, 'redis')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: new MapStorage(clock, 'memory'), timeout: 2 }], { clock })
    const notices: StorageNotice[] = []
    chain.subscribe!((notice) => notices.push(notice))
    for (const listener of redis.listeners) listener({ resync: true })
    for (const listener of redis.listeners) listener({ resync: true, circuit: 'a' })
    expect(notices).toEqual([{ resync: true }, { resync: true, circuit: 'a' }])
  })

  it('writeBack() tries a primary marked unhealthy, brings it back, and says what it did', async () => {
    const { clock } = manualClock()
    const redis = new MapStorage(clock, 'redis')
    let down = true
    const flaky = new Proxy(redis, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown
        if (typeof value !== 'function' || key === 'subscribe') return value
        return (...args: unknown[]) => {
          if (down) throw new Error('ECONNREFUSED')
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
    const chain = new FallbackChainStorage([{ storage: flaky, timeout: 5 }, { storage: new MapStorage(clock, 'memory'), timeout: 2 }], {
      clock,
      unhealthyAfter: 1,
      recoverAfter: 60_000,
    })
    chain.setStatus('a', open(1, clock()))
    expect(chain.health()[0]).toMatchObject({ healthy: false, owedWriteBacks: 1 })
    down = false
    expect(await chain.writeBack()).toEqual([
      { backend: 'redis', backendIndex: 0, outcome: 'written', written: 1, owed: 0, rejoined: true },
      { backend: 'memory', backendIndex: 1, outcome: 'nothing_owed', written: 0, owed: 0, rejoined: false },
    ])
    expect(redis.getStatus('a')).toEqual(open(1, clock()))
    expect(chain.health()[0]).toMatchObject({ healthy: true })
  })

  it('writeBack() says a backend that is not ready was left alone', async () => {
    const { clock } = manualClock()
    const connecting = Object.assign(Object.create(new MapStorage(clock, 'redis')) as MapStorage, { ready: () => false })
    const chain = new FallbackChainStorage([{ storage: connecting, timeout: 5 }, { storage: new MapStorage(clock, 'memory'), timeout: 2 }], { clock })
    chain.setStatus('a', open(1, clock()))
    expect((await chain.writeBack())[0]).toEqual({ backend: 'redis', backendIndex: 0, outcome: 'not_ready', written: 0, owed: 1, rejoined: false })
  })
})
