import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import Keyv from 'keyv'
import { afterAll, describe, expect, it } from 'vitest'
import { isConfigurationError, isStorageError, isStorageTimeoutError } from '@breaker/core'
import type { StorageError } from '@breaker/core'
import { KeyvStorage } from '@breaker/storage-keyv'
import { startRedisServer } from '../../storage-redis/test/helpers/redis-server.mjs'
import { memoryKeyv, redisKeyv } from './helpers/stores.js'

const server = await startRedisServer()
afterAll(() => server.stop())

/** A hand-made Keyv store adapter (Keyv accepts any object with get/set/delete/clear and an emitter). */
function fakeStore(methods: Record<string, unknown>): Keyv {
  const store = Object.assign(new EventEmitter(), { opts: {}, delete: async () => true, clear: async () => {}, ...methods })
  return new Keyv({ store: store as never })
}

const clockAt = (start: number) => {
  let now = start
  const clock = () => now
  return Object.assign(clock, { advance: (ms: number) => (now += ms) })
}

describe('KeyvStorage writers', () => {
  it('sums the counts of several instances sharing one store, each under its own key', async () => {
    const keyv = memoryKeyv()
    const clock = clockAt(1_000_000)
    const [a, b, c] = [1, 2, 3].map(() => new KeyvStorage({ keyv, clock, claimCheckMs: 1 }))
    const name = randomUUID()
    await Promise.all([a!.recordFailure(name, 1), b!.recordFailure(name, 1), c!.recordSuccess(name, 1), a!.recordFailure(name, 1)])
    expect(await b!.record(name, 'failure', 1, 60_000)).toEqual({ failures: 4, successes: 1 })
    const writerKeys = [...(keyv.opts.store as Map<string, unknown>).keys()].filter((key) => key.includes(':w:'))
    expect(writerKeys).toHaveLength(3)
  })

  it('resolves writers colliding on the same slots: 4 instances on 4 slots all end up counted', async () => {
    for (let round = 0; round < 5; round++) {
      const keyv = memoryKeyv()
      const name = randomUUID()
      const writers = [1, 2, 3, 4].map(() => new KeyvStorage({ keyv, maxWriters: 4, claimCheckMs: 5 }))
      await Promise.all(writers.flatMap((w) => Array.from({ length: 50 }, () => w.recordFailure(name, 1))))
      expect(await writers[0]!.failureCount(name, 60_000)).toBe(200)
    }
  })

  it('refuses a writer once every slot is taken (maxWriters) with a StorageError', async () => {
    const keyv = memoryKeyv()
    const name = randomUUID()
    const writers = [1, 2, 3].map(() => new KeyvStorage({ keyv, maxWriters: 2, claimCheckMs: 1 }))
    await writers[0]!.recordFailure(name, 1)
    await writers[1]!.recordFailure(name, 1)
    const error = await writers[2]!.recordFailure(name, 1).catch((e: unknown) => e)
    expect(isStorageError(error)).toBe(true)
    expect((error as Error).message).toContain('maxWriters')
    expect(await writers[0]!.failureCount(name, 60_000)).toBe(2)
  })

  it('claims its slot again when it was lost, so its counts stay visible', async () => {
    const keyv = memoryKeyv()
    const name = randomUUID()
    const writer = new KeyvStorage({ keyv, prefix: 'p', claimCheckMs: 1 })
    await writer.recordFailure(name, 1)
    const store = keyv.opts.store as Map<string, unknown>
    for (const key of [...store.keys()]) if (key.includes(':slot:')) store.delete(key)
    expect(await writer.failureCount(name, 60_000)).toBe(1)
    expect([...store.keys()].filter((key) => key.includes(':slot:'))).toHaveLength(1)
  })

  it('voids counts another instance still holds once the circuit is cleared', async () => {
    const keyv = memoryKeyv()
    const name = randomUUID()
    const a = new KeyvStorage({ keyv, claimCheckMs: 1 })
    const b = new KeyvStorage({ keyv, claimCheckMs: 1 })
    await a.recordFailure(name, 1)
    await a.recordFailure(name, 1)
    await b.clear(name)
    expect(await b.failureCount(name, 60_000)).toBe(0)
    // a's next write must not bring back what it counted before the clear.
    expect(await a.record(name, 'failure', 1, 60_000)).toEqual({ failures: 0, successes: 0 })
    expect(await a.record(name, 'failure', 1, 60_000)).toEqual({ failures: 1, successes: 0 })
  })

  it('honours the window on the injected clock, and stored buckets carry a TTL', async () => {
    const keyv = memoryKeyv()
    const clock = clockAt(5_000_000)
    const s = new KeyvStorage({ keyv, clock, claimCheckMs: 1, bucketMs: 100, retentionMs: 1_000 })
    const name = randomUUID()
    await s.recordFailure(name, 1)
    clock.advance(500)
    await s.recordFailure(name, 1)
    expect(await s.failureCount(name, 1_000)).toBe(2)
    expect(await s.failureCount(name, 300)).toBe(1)
    clock.advance(1_000)
    expect(await s.failureCount(name, 1_000)).toBe(0)
    const raw = [...(keyv.opts.store as Map<string, string>).entries()].find(([key]) => key.includes(':w:'))![1]
    expect(JSON.parse(raw).expires).toBeGreaterThan(Date.now())
  })
})

describe('KeyvStorage failures', () => {
  it('surfaces a store error as StorageError with the cause, never as zero', async () => {
    const broken = fakeStore({
      get: async () => Promise.reject(new Error('disk on fire')),
      set: async () => Promise.reject(new Error('disk on fire')),
    })
    const s = new KeyvStorage({ keyv: broken })
    const error = await s.getStatus('x').catch((e: unknown) => e)
    expect(isStorageError(error)).toBe(true)
    expect(((error as Error).cause as Error).message).toBe('disk on fire')
    expect(broken.throwOnErrors).toBe(true)
  })

  it('surfaces a store that does not answer as StorageTimeoutError', async () => {
    const hanging = fakeStore({ get: () => new Promise(() => {}), set: () => new Promise(() => {}) })
    const s = new KeyvStorage({ keyv: hanging, timeout: 30 })
    const error = (await s.failureCount('x', 1_000).catch((e: unknown) => e)) as StorageError
    expect(isStorageTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({ storage: 'keyv', operation: 'failureCount', circuit: 'x', timeoutMs: 30 })
  })

  it('surfaces a killed Redis behind @keyv/redis as StorageError', async () => {
    const own = await startRedisServer()
    const keyv = redisKeyv(own.url)
    keyv.on('error', () => {})
    const s = new KeyvStorage({ keyv, timeout: 500, claimCheckMs: 1 })
    await s.recordFailure('y', 1)
    await own.kill()
    const error = await s.recordFailure('y', 1).catch((e: unknown) => e)
    expect(isStorageError(error)).toBe(true)
    await keyv.disconnect().catch(() => {})
  })

  it('refuses clearAll on a store it cannot list, instead of pretending', async () => {
    const plain = fakeStore({ get: async () => undefined, set: async () => true })
    const error = await new KeyvStorage({ keyv: plain }).clearAll().catch((e: unknown) => e)
    expect(isStorageError(error)).toBe(true)
    expect((error as Error).message).toContain('iterate')
  })

  it('clearAll leaves keys of other prefixes and of the user alone', async () => {
    const keyv = memoryKeyv()
    await keyv.set('user-key', 1)
    await keyv.set('breakerx:c:a:status', 1)
    const mine = new KeyvStorage({ keyv, claimCheckMs: 1 })
    const other = new KeyvStorage({ keyv, prefix: 'other', claimCheckMs: 1 })
    await mine.setStatus('a', { status: 'open', openedAt: 1, epoch: 1, updatedAt: 1 })
    await other.setStatus('a', { status: 'open', openedAt: 1, epoch: 1, updatedAt: 1 })
    await mine.recordFailure('a', 1)
    await mine.clearAll()
    expect(await mine.getStatus('a')).toBeNull()
    expect(await other.getStatus('a')).not.toBeNull()
    expect(await keyv.get('user-key')).toBe(1)
    expect(await keyv.get('breakerx:c:a:status')).toBe(1)
  })
})

describe('KeyvStorage options', () => {
  it.each([
    [{ keyv: undefined }, 'keyv'],
    [{ prefix: '' }, 'prefix'],
    [{ bucketMs: 0 }, 'bucketMs'],
    [{ maxWriters: 1.5 }, 'maxWriters'],
    [{ timeout: -1 }, 'timeout'],
    [{ clock: 5 }, 'clock'],
    [{ writerId: 'a b' }, 'writerId'],
    [{ scope: 'galaxy' }, 'scope'],
  ])('rejects %j naming the option', (bad, option) => {
    let error: unknown
    try {
      new KeyvStorage({ keyv: memoryKeyv(), ...(bad as object) } as never)
    } catch (e) {
      error = e
    }
    expect(isConfigurationError(error)).toBe(true)
    expect((error as { option: string }).option).toBe(option)
  })

  it('declares no CAS, leases or pub/sub, since a plain key-value store cannot honour them', () => {
    const s = new KeyvStorage({ keyv: memoryKeyv() })
    expect(s.capabilities).toEqual({ scope: 'cluster', atomic: true, cas: false, leases: false, subscribe: false })
    expect('compareAndSetStatus' in s).toBe(false)
  })
})

