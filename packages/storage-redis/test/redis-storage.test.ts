import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import calculateSlot from 'cluster-key-slot'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isConfigurationError, isStorageError, isStorageTimeoutError } from '@breaker/core'
import type { StorageNotice, StatusRecord, StorageError } from '@breaker/core'
import { RedisStorage, circuitKeys } from '@breaker/storage-redis'
import type { Redis } from 'ioredis'
import { keySlot } from '../src/slot.js'
import { connect } from './helpers/client.js'
import { startRedisServer } from './helpers/redis-server.mjs'

const server = await startRedisServer()
const admin = connect(server)
const opened: Array<{ storage?: RedisStorage; client?: Redis }> = []

function storage(options: Partial<ConstructorParameters<typeof RedisStorage>[0]> = {}): RedisStorage {
  const client = connect(server)
  const s = new RedisStorage({ client, prefix: `t${randomUUID().slice(0, 6)}`, ...options })
  opened.push({ storage: s, client })
  return s
}

const open = (epoch: number, at = 1_000): StatusRecord => ({ status: 'open', openedAt: at, epoch, updatedAt: at })

async function allKeys(): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, found] = await admin.scan(cursor, 'COUNT', 1000)
    cursor = next
    keys.push(...found)
  } while (cursor !== '0')
  return keys.sort()
}

afterEach(async () => {
  for (const { storage: s, client } of opened.splice(0)) {
    await s?.close()
    client?.disconnect()
  }
})
afterAll(async () => {
  admin.disconnect()
  await server.stop()
})

describe('RedisStorage keys', () => {
  it('hash-tags every key of a circuit so the whole circuit lives on one Cluster slot', async () => {
    const s = storage({ prefix: 'breaker' })
    const name = `payments-${randomUUID()}`
    await s.setStatus(name, open(1))
    await s.record(name, 'failure', 1, 60_000)
    await (await s.acquireProbe(name, 1, 10_000))!.release()
    await s.acquireProbe(name, 1, 10_000)
    const keys = (await allKeys()).filter((key) => key.includes(name))
    expect(keys.map((key) => key.replace(name, 'X'))).toEqual(['breaker:{X}:counts', 'breaker:{X}:leases', 'breaker:{X}:status'])
    expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1)
  })

  it('keeps names with *, :, {, }, spaces and unicode inside their own hash tag', async () => {
    const s = storage({ prefix: 'names' })
    for (const name of ['a}b{c', 'x:*', '{tag}', 'sp ace', 'ü→😀']) {
      const keys = circuitKeys('names', name)
      await s.setStatus(name, open(1))
      await s.recordFailure(name, 1)
      expect(await admin.exists(keys.status, keys.counts)).toBe(2)
      for (const key of [keys.status, keys.counts, keys.leases, keys.lock]) {
        expect(key.match(/[{}]/g)).toEqual(['{', '}'])
        expect(calculateSlot(key)).toBe(calculateSlot(keys.status))
      }
    }
  })

  it('reads a status hash it did not write as absent, reports it as corrupt, and lets a compare-and-set from epoch 0 replace it', async () => {
    const errors: StorageError[] = []
    const s = storage({ prefix: 'corrupt', onError: (e) => errors.push(e) })
    for (const fields of [{ s: 'sideways' }, { s: 'open', o: '1', e: 'abc', u: '1' }, { s: 'open', o: '1', e: 'NaN', u: '1' }, { s: 'open', o: '1', e: '1e400', u: '1' }, { s: 'open', o: '1', e: '3', u: '1', b: 'abc' }, { s: 'open', o: '1', e: '3', u: '1', h: '-1' }, { s: 'open', o: '1', e: '3', u: '1', b: '01' }]) {
      const name = randomUUID()
      await admin.hset(circuitKeys('corrupt', name).status, fields)
      expect(await s.getStatus(name)).toBeNull()
      expect(errors.at(-1)).toMatchObject({ code: 'ERR_STORAGE_CORRUPT', circuit: name, operation: 'getStatus' })
      expect(await s.compareAndSetStatus(name, 0, open(1))).toBe(true)
      expect(await s.getStatus(name)).toEqual(open(1))
    }
    expect(await s.record('bad', 'failure', 1, 60_000)).toEqual({ failures: 1, successes: 0 })
  })

  it('keeps backoff and holds as hash fields b and h, and deletes them when a record has none', async () => {
    const s = storage({ prefix: 'counters' })
    const name = randomUUID()
    const key = circuitKeys('counters', name).status
    await s.setStatus(name, { ...open(1), backoff: 3, holds: 2 })
    expect(await admin.hgetall(key)).toEqual({ s: 'open', o: '1000', e: '1', u: '1000', b: '3', h: '2' })
    expect(await s.compareAndSetStatus(name, 1, { ...open(2), backoff: 4 })).toBe(true)
    expect(await admin.hgetall(key)).toEqual({ s: 'open', o: '1000', e: '2', u: '1000', b: '4' })
    await s.setStatus(name, { status: 'closed', openedAt: null, epoch: 3, updatedAt: 2_000, backoff: 0 })
    expect(await admin.hgetall(key)).toEqual({ s: 'closed', o: '', e: '3', u: '2000' })
  })

  it('reads a status hash written before backoff and holds existed as a record without them, and a compare-and-set adds them', async () => {
    const s = storage({ prefix: 'older' })
    const name = randomUUID()
    await admin.hset(circuitKeys('older', name).status, { s: 'open', o: '1000', e: '3', u: '1000' })
    const read = await s.getStatus(name)
    expect(read).toEqual(open(3))
    expect(Object.keys(read!).sort()).toEqual(['epoch', 'openedAt', 'status', 'updatedAt'])
    expect(await s.compareAndSetStatus(name, 3, { ...open(4), backoff: 1, holds: 1 })).toBe(true)
    expect(await s.getStatus(name)).toEqual({ ...open(4), backoff: 1, holds: 1 })
  })

  it('clearAll works through a client with an ioredis keyPrefix', async () => {
    const prefixed = connect(server, { keyPrefix: 'app*:' })
    const s = new RedisStorage({ client: prefixed, prefix: 'kp' })
    await s.setStatus('one', open(1))
    await s.recordFailure('one', 1)
    await admin.set('app*:kp:{one}:mine', 'user data')
    expect(await admin.exists('app*:kp:{one}:status', 'app*:kp:{one}:counts')).toBe(2)
    await s.clearAll()
    expect(await admin.exists('app*:kp:{one}:status', 'app*:kp:{one}:counts')).toBe(0)
    expect(await admin.get('app*:kp:{one}:mine')).toBe('user data')
    await s.close()
    prefixed.disconnect()
  })

  it('clearAll deletes only this prefix, with SCAN and never KEYS or FLUSH', async () => {
    await admin.config('RESETSTAT')
    const foreign = ['other:{x}:status', 'ab:{x}:status', 'a:plain', 'a:{x}:userdata', 'user-key']
    for (const key of foreign) await admin.set(key, '1')
    const mine = new RedisStorage({ client: admin, prefix: 'a' })
    const globbed = new RedisStorage({ client: admin, prefix: 'a*' })
    await mine.setStatus('one', open(1))
    await mine.recordFailure('two', 1)
    await globbed.setStatus('three', open(1))
    await globbed.clearAll()
    expect(await mine.getStatus('one')).toEqual(open(1))
    await mine.clearAll()
    expect(await mine.getStatus('one')).toBeNull()
    expect(await mine.failureCount('two', 60_000)).toBe(0)
    for (const key of foreign) expect(await admin.exists(key)).toBe(1)
    await mine.close()
    await globbed.close()
    const stats = await admin.info('commandstats')
    expect(stats).toContain('cmdstat_scan')
    expect(stats).not.toMatch(/cmdstat_(keys|flushdb|flushall):/)
    await admin.del(...foreign)
  })
})

describe('RedisStorage windows', () => {
  it('counts only outcomes inside a short real window, with server time', async () => {
    const s = storage({ bucketMs: 20 })
    const name = randomUUID()
    await s.recordBatch(name, { failures: 3, successes: 2 }, 200)
    expect(await s.record(name, 'failure', 1, 200)).toEqual({ failures: 4, successes: 2 })
    await sleep(260)
    expect(await s.record(name, 'success', 1, 200)).toEqual({ failures: 0, successes: 1 })
  })

  it('trims buckets past the window and lets idle counters expire, so nothing grows without bound', async () => {
    const s = storage({ bucketMs: 10 })
    const name = randomUUID()
    const key = `${(s as unknown as { options: { prefix: string } }).options.prefix}:{${name}}:counts`
    for (let i = 0; i < 6; i++) {
      await s.record(name, 'failure', 1, 50)
      await sleep(25)
    }
    expect(await admin.hlen(key)).toBeLessThanOrEqual(6)
    const ttl = await admin.pttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60)
    await sleep(120)
    expect(await admin.exists(key)).toBe(0)
  })
})

describe('RedisStorage retention', () => {
  it('keeps the counter hash bounded under recordSuccess alone, which never sums', async () => {
    const s = storage({ bucketMs: 2, retentionMs: 10 })
    const name = randomUUID()
    const key = `${(s as unknown as { options: { prefix: string } }).options.prefix}:{${name}}:counts`
    let most = 0
    for (let i = 0; i < 80; i++) {
      await s.recordSuccess(name, 1)
      most = Math.max(most, await admin.hlen(key))
      await sleep(2)
    }
    expect(most).toBeLessThanOrEqual(3 * (5 + 1) + 1)
    expect(await s.successCount(name, 10)).toBeGreaterThan(0)
  })
})

describe('RedisStorage probe leases', () => {
  it('hands out at most max leases across instances, frees one on release, and release twice is harmless', async () => {
    const a = storage({ prefix: 'shared-leases' })
    const b = storage({ prefix: 'shared-leases' })
    const name = randomUUID()
    const first = await a.acquireProbe(name, 2, 10_000)
    const second = await b.acquireProbe(name, 2, 10_000)
    expect(first).not.toBeNull()
    expect(second).not.toBeNull()
    expect(await a.acquireProbe(name, 2, 10_000)).toBeNull()
    await second!.release()
    await second!.release()
    expect(await a.acquireProbe(name, 2, 10_000)).not.toBeNull()
    expect(await b.acquireProbe(name, 2, 10_000)).toBeNull()
  })

  it('lets a lease lapse after its ttl, so a crashed holder cannot wedge the circuit', async () => {
    const s = storage()
    const name = randomUUID()
    const lease = await s.acquireProbe(name, 1, 80)
    expect(lease!.expiresAt).toBeGreaterThan(Date.now() - 5_000)
    expect(await s.acquireProbe(name, 1, 80)).toBeNull()
    await sleep(120)
    expect(await s.acquireProbe(name, 1, 80)).not.toBeNull()
  })
})

describe('RedisStorage scripts', () => {
  it('reloads its scripts after SCRIPT FLUSH (NOSCRIPT) and carries on', async () => {
    const s = storage()
    const name = randomUUID()
    await s.recordFailure(name, 1)
    await admin.script('FLUSH')
    expect(await s.record(name, 'failure', 1, 60_000)).toEqual({ failures: 2, successes: 0 })
    expect(await s.compareAndSetStatus(name, 0, open(1))).toBe(true)
  })

  it('makes exactly one of many racing instances win compareAndSetStatus', async () => {
    const instances = Array.from({ length: 8 }, () => storage({ prefix: 'race' }))
    const name = randomUUID()
    const wins = await Promise.all(instances.flatMap((s) => [1, 2, 3].map(() => s.compareAndSetStatus(name, 0, open(1)))))
    expect(wins.filter(Boolean)).toHaveLength(1)
  })
})

describe('RedisStorage pub/sub', () => {
  it('tells another instance of a transition over pub/sub, and survives a throwing listener', async () => {
    const errors: StorageError[] = []
    const writer = storage({ prefix: 'pubsub' })
    const reader = storage({ prefix: 'pubsub', onError: (e) => errors.push(e) })
    const name = randomUUID()
    const seen: StorageNotice[] = []
    reader.subscribe(() => {
      throw new Error('listener bug')
    })
    reader.subscribe((change) => {
      if (change.circuit === name) seen.push(change)
    })
    await writer.subscribe(() => {})
    await sleep(50)
    await writer.setStatus(name, open(1))
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(10)
    expect(seen).toEqual([{ circuit: name, record: open(1) }])
    expect(errors.some((e) => isStorageError(e) && (e.cause as Error).message === 'listener bug')).toBe(true)
  })

  it('reports a message without an epoch as corrupt and tells only that circuit to re-read', async () => {
    const errors: StorageError[] = []
    const reader = storage({ prefix: 'bad-message', onError: (e) => errors.push(e) })
    const name = randomUUID()
    const seen: StorageNotice[] = []
    reader.subscribe((notice) => seen.push(notice))
    await reader.setStatus('marker', open(1))
    await admin.publish('bad-message:status-changes', JSON.stringify({ c: name, r: { status: 'open', openedAt: 1, updatedAt: 1 } }))
    for (let i = 0; i < 100 && !seen.some((n) => n.circuit === name); i++) await sleep(10)
    expect(seen.filter((n) => n.circuit === name)).toEqual([{ resync: true, circuit: name }])
    expect(errors).toMatchObject([{ code: 'ERR_STORAGE_CORRUPT', circuit: name, operation: 'subscribe' }])
  })

  it('sends a resync notice when the subscriber connection drops and another once it has resubscribed', async () => {
    const writer = storage({ prefix: 'resync-drop' })
    const reader = storage({ prefix: 'resync-drop' })
    const name = randomUUID()
    const seen: StorageNotice[] = []
    reader.subscribe((notice) => seen.push(notice))
    await reader.setStatus('warm', open(1))
    seen.length = 0
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    for (let i = 0; i < 200 && seen.filter((n) => n.resync && n.circuit === undefined).length < 2; i++) await sleep(10)
    expect(seen).toEqual([{ resync: true }, { resync: true }])
    // Live again: a peer's write is pushed.
    await writer.setStatus(name, open(2))
    for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(10)
    expect(seen[2]).toEqual({ circuit: name, record: open(2) })
  })
})

describe('RedisStorage batching', () => {
  it('sends what many circuits queue in one tick as one command', async () => {
    const s = storage()
    const names = Array.from({ length: 50 }, () => randomUUID())
    await s.getStatus('warm-up')
    await admin.config('RESETSTAT')
    const answers = await Promise.all([
      ...names.map((name) => s.recordBatch(name, { failures: 2, successes: 3 }, 60_000)),
      ...names.map((name) => s.getStatus(name)),
      ...names.map((name) => s.recordSuccess(name, 0)),
    ])
    // Writes to one circuit in one tick merge, so the counts include the recordSuccess queued after.
    expect(answers.slice(0, 50)).toEqual(names.map(() => ({ failures: 2, successes: 4 })))
    expect(answers.slice(50, 100)).toEqual(names.map(() => null))
    const stats = await admin.info('commandstats')
    expect(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1]).toBe('1')
    for (const name of names) expect(await s.successCount(name, 60_000)).toBe(4)
  })

  it('keeps at most maxInFlight calls in flight while Redis is paused, merging what waits', async () => {
    const own = await startRedisServer()
    const client = connect(own)
    const s = new RedisStorage({ client, timeout: 0, maxInFlight: 1 })
    await s.recordSuccess('x', 0)
    own.pause()
    try {
      const writes: Array<Promise<void>> = []
      for (let tick = 0; tick < 200; tick++) {
        writes.push(s.recordSuccess('x', 0), s.recordFailure('y', 0))
        await new Promise((r) => setImmediate(r))
      }
      // One command sent, the rest merged into one pending batch.
      expect((client as unknown as { commandQueue: { length: number } }).commandQueue.length).toBe(1)
      own.resume()
      await Promise.all(writes)
      expect(await s.successCount('x', 60_000)).toBe(201)
      expect(await s.failureCount('y', 60_000)).toBe(200)
      expect(await admin.ping()).toBe('PONG')
    } finally {
      own.resume()
      await s.close()
      client.disconnect()
      await own.stop()
    }
  })

  it('fails only the circuit whose counter key has the wrong type, not the others in its batch', async () => {
    const s = storage({ prefix: 'wrongtype' })
    await admin.set(circuitKeys('wrongtype', 'broken').counts, 'not a hash')
    const [broken, fine] = await Promise.allSettled([s.record('broken', 'failure', 0, 60_000), s.record('fine', 'failure', 0, 60_000)])
    expect(broken.status).toBe('rejected')
    expect(isStorageError((broken as PromiseRejectedResult).reason)).toBe(true)
    expect(fine).toEqual({ status: 'fulfilled', value: { failures: 1, successes: 0 } })
  })

  it('times out a caller after timeout ms with one timer per batch, and the write still lands', async () => {
    const own = await startRedisServer()
    const client = connect(own)
    const s = new RedisStorage({ client, timeout: 100 })
    await s.recordSuccess('x', 0)
    own.pause()
    try {
      const error = await s.recordSuccess('x', 0).catch((e: unknown) => e)
      expect(isStorageTimeoutError(error)).toBe(true)
      own.resume()
      for (let i = 0; i < 50 && (await s.successCount('x', 60_000)) < 2; i++) await sleep(10)
      expect(await s.successCount('x', 60_000)).toBe(2)
    } finally {
      own.resume()
      await s.close()
      client.disconnect()
      await own.stop()
    }
  })
})

describe('RedisStorage failures', () => {
  it('surfaces a paused server as StorageTimeoutError with a cause, and recovers when it resumes', async () => {
    const own = await startRedisServer()
    const client = connect(own)
    const s = new RedisStorage({ client, timeout: 100 })
    await s.recordFailure('x', 1)
    own.pause()
    try {
      const error = await s.record('x', 'failure', 1, 60_000).catch((e: unknown) => e)
      expect(isStorageTimeoutError(error)).toBe(true)
      expect((error as Error).cause).toBeInstanceOf(Error)
      expect((error as StorageError).circuit).toBe('x')
    } finally {
      own.resume()
    }
    await sleep(50)
    expect(await s.failureCount('x', 60_000)).toBeGreaterThanOrEqual(1)
    await s.close()
    client.disconnect()
    await own.stop()
  })

  it('surfaces a killed server as StorageError with the driver error as cause, and reports the subscriber loss', async () => {
    const own = await startRedisServer()
    const client = connect(own, { maxRetriesPerRequest: 0, enableOfflineQueue: false })
    await new Promise((resolve) => client.once('ready', resolve))
    const errors: StorageError[] = []
    const s = new RedisStorage({ client, timeout: 500, onError: (e) => errors.push(e) })
    s.subscribe(() => {})
    await s.setStatus('y', open(1))
    await own.kill()
    const error = await Promise.resolve(s.getStatus("y")).catch((e: unknown) => e)
    expect(isStorageError(error)).toBe(true)
    expect((error as StorageError).operation).toBe('getStatus')
    expect((error as Error).cause).toBeInstanceOf(Error)
    for (let i = 0; i < 50 && errors.length === 0; i++) await sleep(20)
    expect(errors.length).toBeGreaterThan(0)
    await s.close()
    client.disconnect()
  })
})

describe('RedisStorage readiness and slots', () => {
  it('is not ready() until its client has connected', async () => {
    const client = connect(server, { lazyConnect: true })
    const s = new RedisStorage({ client, subscriber: connect(server) })
    opened.push({ storage: s, client })
    expect(s.ready()).toBe(false)
    await client.connect()
    expect(s.ready()).toBe(true)
  })

  it('groups work by the same Cluster slot as Redis computes', () => {
    for (const key of ['breaker:{payments}:status', 'plain', '{}x', 'a{b}c{d}', '{ü→😀}:counts', `p:{${randomUUID()}}:counts`]) {
      expect(keySlot(key)).toBe(calculateSlot(key))
    }
  })
})

describe('RedisStorage options', () => {
  it.each([
    [{ client: undefined }, 'client'],
    [{ prefix: 'a{b' }, 'prefix'],
    [{ bucketMs: 0 }, 'bucketMs'],
    [{ bucketMs: 1.5 }, 'bucketMs'],
    [{ timeout: -1 }, 'timeout'],
    [{ retentionMs: Number.NaN }, 'retentionMs'],
    [{ maxInFlight: 0 }, 'maxInFlight'],
    [{ mirrorStatus: true }, 'mirrorStatus'],
  ])('rejects %j naming the option', (bad, option) => {
    const error = (() => {
      try {
        new RedisStorage({ client: admin, ...(bad as object) } as never)
      } catch (e) {
        return e
      }
    })()
    expect(isConfigurationError(error)).toBe(true)
    expect((error as { option: string }).option).toBe(option)
    expect((error as Error).message).toContain('@breaker/storage-redis')
  })
})

beforeAll(async () => {
  expect(await admin.ping()).toBe('PONG')
})
