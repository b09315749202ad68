import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Circuit } from '@breaker/core'
import { RedisStorage } from '@breaker/storage-redis'
import { connect } from './helpers/client.js'
import { raceFixtures, startFixture } from './helpers/processes.mjs'
import { startRedisServer } from './helpers/redis-server.mjs'

// The children import the built dist of core and storage-redis (CI builds before testing).
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const server = await startRedisServer()
afterAll(() => server.stop())

describe('RedisStorage across processes', () => {
  it('counts exactly 8 000 failures from 4 processes writing 2 000 at once each', async () => {
    const circuit = `shared-${randomUUID()}`
    const results = await raceFixtures<{ failed: number }>(4, fixture('writer.mjs'), () => [String(server.port), 'mp', circuit, '2000'])
    expect(results.map((r) => r.failed)).toEqual([0, 0, 0, 0])
    const client = connect(server)
    const storage = new RedisStorage({ client, prefix: 'mp' })
    expect(await storage.failureCount(circuit, 60_000)).toBe(8_000)
    await storage.close()
    client.disconnect()
  })

  it('lets exactly one of 4 processes racing to trip a circuit fire open, and all of them end open', async () => {
    const circuit = `trip-${randomUUID()}`
    const results = await raceFixtures<{ opens: number; state: string; epoch: number }>(4, fixture('tripper.mjs'), () => [
      String(server.port),
      'mp',
      circuit,
    ])
    expect(results.reduce((sum, r) => sum + r.opens, 0)).toBe(1)
    expect(results.map((r) => r.state)).toEqual(['open', 'open', 'open', 'open'])
    expect(new Set(results.map((r) => r.epoch))).toEqual(new Set([1]))
  })

  it('shows a peer that caches status for 60 s another process’s trip within 200 ms, through pub/sub', async () => {
    const name = `peer-${randomUUID()}`
    const client = connect(server)
    const storage = new RedisStorage({ client, prefix: 'mp' })
    const local = new Circuit(name, { storage, registry: false, stateCacheTtl: 60_000, threshold: { failures: 3, within: 60_000 } })
    try {
      expect(await local.call(() => 'ok')).toBe('ok')
      // Our own subscription must be live before the peer trips.
      for (let i = 0; i < 100 && !(await subscribed(client)); i++) await new Promise((r) => setTimeout(r, 10))
      const peer = startFixture<{ state: string; trippedAt: number }>(fixture('peer.mjs'), [String(server.port), 'mp', name])
      await peer.ready
      const seen = new Promise<number>((resolve) => {
        const poll = () => (local.state === 'open' ? resolve(Date.now()) : setTimeout(poll, 2))
        poll()
      })
      peer.send({ go: true })
      const { state, trippedAt } = await peer.result
      expect(state).toBe('open')
      const seenAt = await Promise.race([seen, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 2_000))])
      expect(seenAt - trippedAt).toBeLessThan(200)
      await expect(local.call(() => 'ok')).rejects.toMatchObject({ code: 'ERR_CIRCUIT_OPEN' })
    } finally {
      await local.dispose()
      await storage.close()
      client.disconnect()
    }
  })
})

/** True once some connection subscribes to the status channel of prefix `mp`. */
async function subscribed(client: ReturnType<typeof connect>): Promise<boolean> {
  const counts = (await client.call('PUBSUB', 'NUMSUB', 'mp:status-changes')) as [string, number]
  return Number(counts[1]) > 0
}
