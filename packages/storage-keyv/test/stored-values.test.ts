import { randomUUID } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import type Keyv from 'keyv'
import { KeyvStorage } from '@breaker/storage-keyv'
import { startRedisServer } from '../../storage-redis/test/helpers/redis-server.mjs'
import { memoryKeyv, redisKeyv } from './helpers/stores.js'

const server = await startRedisServer()
afterAll(() => server.stop())

const NOW = 1_767_225_600_000 // 2026-01-01, a whole second
const clock = () => NOW

// Corrupt values are reported on this channel and read as absent.
let reports: Array<{ circuit: string; error: Error & { code: string } }> = []
const onReport = (message: unknown) => void reports.push(message as (typeof reports)[number])
beforeEach(() => {
  reports = []
  subscribe('breaker:storage:error', onReport)
})
afterEach(() => void unsubscribe('breaker:storage:error', onReport))

/** Puts a hand-written writer value for `circuit` under prefix `p`, as another process might have. */
async function plantWriter(keyv: Keyv, circuit: string, value: unknown): Promise<void> {
  await keyv.set(`p:c:${circuit}:slot:0`, { w: 'hand' })
  await keyv.set(`p:c:${circuit}:w:hand`, value)
}

const stores: Array<[string, () => Keyv]> = [
  ['a Map', memoryKeyv],
  ['Redis (@keyv/redis)', () => redisKeyv(server.url)],
]

describe.each(stores)('KeyvStorage on %s reads stored values through the kit', (_, makeKeyv) => {
  it('reads a count a writer stored as a decimal string as a number, never concatenating it', async () => {
    const keyv = makeKeyv()
    const circuit = `c-${randomUUID()}`
    const storage = new KeyvStorage({ keyv, clock, prefix: 'p', claimCheckMs: 1 })
    await plantWriter(keyv, circuit, { g: '/', b: [[NOW / 1000, '41', 2]] })
    expect(await storage.failureCount(circuit, 60_000)).toBe(41)
    expect(await storage.successCount(circuit, 60_000)).toBe(2)
    await keyv.disconnect()
  })

  it.each([
    ['a count with a leading zero', { g: '/', b: [[NOW / 1000, '041', 0]] }],
    ['a negative count', { g: '/', b: [[NOW / 1000, -3, 0]] }],
    ['a fractional bucket index', { g: '/', b: [[NOW / 1000 + 0.5, 1, 0]] }],
    ['buckets that are not an array', { g: '/', b: 'many' }],
    ['a plain string', 'garbage'],
  ])('reports a writer value with %s and counts it as absent', async (_, value) => {
    const keyv = makeKeyv()
    const circuit = `c-${randomUUID()}`
    const storage = new KeyvStorage({ keyv, clock, prefix: 'p', claimCheckMs: 1 })
    await plantWriter(keyv, circuit, value)
    expect(await storage.failureCount(circuit, 60_000)).toBe(0)
    expect(reports.some((r) => r.circuit === circuit && r.error.code === 'ERR_STORAGE_CORRUPT')).toBe(true)
    await keyv.disconnect()
  })

  it.each([
    ['openedAt "soon"', { status: 'open', openedAt: 'soon', epoch: 1, updatedAt: NOW }],
    ['an open status without openedAt', { status: 'open', openedAt: null, epoch: 1, updatedAt: NOW }],
    ['a negative epoch', { status: 'closed', openedAt: null, epoch: -1, updatedAt: NOW }],
    ['an unknown state', { status: 'ajar', openedAt: null, epoch: 1, updatedAt: NOW }],
    ['no updatedAt', { status: 'closed', openedAt: null, epoch: 1 }],
    ['a negative backoff', { status: 'open', openedAt: NOW, epoch: 1, updatedAt: NOW, backoff: -1 }],
    ['holds of "1.5"', { status: 'open', openedAt: NOW, epoch: 1, updatedAt: NOW, holds: '1.5' }],
  ])('reports a stored status with %s and reads it as absent', async (_, value) => {
    const keyv = makeKeyv()
    const circuit = `c-${randomUUID()}`
    const storage = new KeyvStorage({ keyv, clock, prefix: 'p' })
    await keyv.set(`p:c:${circuit}:status`, value)
    expect(await storage.getStatus(circuit)).toBeNull()
    expect(reports.map((r) => [r.circuit, r.error.code])).toEqual([[circuit, 'ERR_STORAGE_CORRUPT']])
    await keyv.disconnect()
  })

  it('reads a valid status with decimal-string numbers as numbers', async () => {
    const keyv = makeKeyv()
    const circuit = `c-${randomUUID()}`
    const storage = new KeyvStorage({ keyv, clock, prefix: 'p' })
    await keyv.set(`p:c:${circuit}:status`, { status: 'half_open', openedAt: String(NOW), epoch: '3', updatedAt: NOW })
    expect(await storage.getStatus(circuit)).toEqual({ status: 'half_open', openedAt: NOW, epoch: 3, updatedAt: NOW })
    expect(reports).toEqual([])
    await keyv.disconnect()
  })

  it('reads a status stored before backoff and holds existed as a record without them', async () => {
    const keyv = makeKeyv()
    const circuit = `c-${randomUUID()}`
    const storage = new KeyvStorage({ keyv, clock, prefix: 'p' })
    await keyv.set(`p:c:${circuit}:status`, { status: 'open', openedAt: NOW, epoch: 3, updatedAt: NOW })
    const record = await storage.getStatus(circuit)
    expect(record).toEqual({ status: 'open', openedAt: NOW, epoch: 3, updatedAt: NOW })
    expect(Object.keys(record!).sort()).toEqual(['epoch', 'openedAt', 'status', 'updatedAt'])
    await keyv.disconnect()
  })

  it('stores backoff and holds in the status value, and leaves them out when 0', async () => {
    const keyv = makeKeyv()
    const circuit = `c-${randomUUID()}`
    const storage = new KeyvStorage({ keyv, clock, prefix: 'p' })
    await storage.setStatus(circuit, { status: 'open', openedAt: NOW, epoch: 3, updatedAt: NOW, backoff: 3, holds: 2 })
    expect(await keyv.get(`p:c:${circuit}:status`)).toEqual({ status: 'open', openedAt: NOW, epoch: 3, updatedAt: NOW, backoff: 3, holds: 2 })
    await storage.setStatus(circuit, { status: 'closed', openedAt: null, epoch: 4, updatedAt: NOW, backoff: 0, holds: 0 })
    expect(await keyv.get(`p:c:${circuit}:status`)).toStrictEqual({ status: 'closed', openedAt: null, epoch: 4, updatedAt: NOW })
    await keyv.disconnect()
  })
})

describe.each(stores)('KeyvStorage on %s keeps prefixes apart', (_, makeKeyv) => {
  it("clearAll on prefix 'a' leaves every key of prefix 'a:c:x' alone", async () => {
    const keyv = makeKeyv()
    const run = randomUUID().slice(0, 8)
    const mine = new KeyvStorage({ keyv, clock, prefix: `a${run}`, claimCheckMs: 1 })
    const other = new KeyvStorage({ keyv, clock, prefix: `a${run}:c:x`, claimCheckMs: 1 })
    const record = { status: 'open' as const, openedAt: NOW, epoch: 1, updatedAt: NOW }
    await other.setStatus('y', record)
    await other.recordFailure('y', 1)
    await mine.setStatus('y', record)
    await mine.clearAll()
    expect(await mine.getStatus('y')).toBeNull()
    expect(await other.getStatus('y')).toEqual(record)
    expect(await other.failureCount('y', 60_000)).toBe(1)
    await other.clearAll()
    await keyv.disconnect()
  })

  it("clear of circuit 'x' under prefix 'a' does not void the counts of prefix 'a:c:x'", async () => {
    const keyv = makeKeyv()
    const run = randomUUID().slice(0, 8)
    const mine = new KeyvStorage({ keyv, clock, prefix: `a${run}`, claimCheckMs: 1 })
    const other = new KeyvStorage({ keyv, clock, prefix: `a${run}:c:x`, claimCheckMs: 1 })
    await other.recordFailure('y', 1)
    await mine.clear('x')
    expect(await other.failureCount('y', 60_000)).toBe(1)
    await other.clearAll()
    await keyv.disconnect()
  })
})
