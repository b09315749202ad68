import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { KeyvStorage } from '@breaker/storage-keyv'
import { raceFixtures } from '../../storage-redis/test/helpers/processes.mjs'
import { startRedisServer } from '../../storage-redis/test/helpers/redis-server.mjs'
import { PG_URL, postgresKeyv, preparePostgres, redisKeyv } from './helpers/stores.js'

// The children import the built dist of core and storage-keyv (CI builds before testing).
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const server = await startRedisServer()
await preparePostgres()
afterAll(() => server.stop())

const stores = [
  { kind: 'redis', url: () => server.url, keyv: () => redisKeyv(server.url) },
  { kind: 'postgres', url: () => PG_URL, keyv: () => postgresKeyv() },
] as const

describe.each(stores)('KeyvStorage on $kind across processes', ({ kind, url, keyv }) => {
  it('counts exactly 8 000 failures from 4 processes writing 2 000 at once each', async () => {
    const circuit = `shared-${randomUUID()}`
    const prefix = `mp-${randomUUID().slice(0, 8)}`
    const results = await raceFixtures<{ failed: number }>(4, fixture('writer.mjs'), () => [kind, url(), prefix, circuit, '2000'])
    expect(results.map((r) => r.failed)).toEqual([0, 0, 0, 0])
    const reader = new KeyvStorage({ keyv: keyv(), prefix })
    expect(await reader.failureCount(circuit, 60_000)).toBe(8_000)
    await reader.keyv.disconnect()
  })

  it('ends with all of 4 processes racing to trip a circuit open; without CAS each that counted the threshold fires open', async () => {
    const circuit = `trip-${randomUUID()}`
    const prefix = `mp-${randomUUID().slice(0, 8)}`
    const results = await raceFixtures<{ opens: number; state: string }>(4, fixture('tripper.mjs'), () => [kind, url(), prefix, circuit])
    expect(results.map((r) => r.state)).toEqual(['open', 'open', 'open', 'open'])
    const opens = results.reduce((sum, r) => sum + r.opens, 0)
    expect(opens).toBeGreaterThanOrEqual(1)
    expect(opens).toBeLessThanOrEqual(4)
  })
})
