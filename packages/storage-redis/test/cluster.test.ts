import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { RedisStorage } from '@breaker/storage-redis'
import { Cluster } from 'ioredis'
import type { StorageNotice } from '@breaker/core'
import { startRedisCluster } from './helpers/redis-server.mjs'

const cluster = await startRedisCluster()
const clusterClient = () =>
  new Cluster(
    cluster.nodes.map((n) => ({ host: n.host, port: n.port })),
    { redisOptions: { connectTimeout: 1_000, maxRetriesPerRequest: 1 }, clusterRetryStrategy: (times) => (times > 10 ? null : 50) },
  )
afterAll(() => cluster.stop())

storageConformance(
  { describe, it, expect },
  () => new RedisStorage({ client: clusterClient(), prefix: `cl${randomUUID().slice(0, 6)}` }),
  {
    name: 'redis on a 3-master Cluster',
    time: 'server',
    granularityMs: 1_000,
    teardown: async (storage) => {
      await storage.close()
      storage.client.disconnect()
    },
  },
)

describe('RedisStorage on a Redis Cluster', () => {
  it('spreads circuits over the masters, and clearAll scans every master for this prefix only', async () => {
    const client = clusterClient()
    const storage = new RedisStorage({ client, prefix: 'spread' })
    const other = new RedisStorage({ client, prefix: 'kept' })
    const names = Array.from({ length: 30 }, (_, i) => `circuit-${i}`)
    for (const name of names) {
      await storage.record(name, 'failure', 1, 60_000)
      await storage.setStatus(name, { status: 'open', openedAt: 1, epoch: 1, updatedAt: 1 })
    }
    await other.recordFailure('x', 1)
    const perMaster = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1)
    await storage.clearAll()
    for (const name of names) expect(await storage.getStatus(name)).toBeNull()
    expect(await other.failureCount('x', 60_000)).toBe(1)
    await storage.close()
    await other.close()
    client.disconnect()
  })

  it('delivers status changes to another Cluster client over its own subscriber connection', async () => {
    const a = new RedisStorage({ client: clusterClient(), prefix: 'clpub' })
    const b = new RedisStorage({ client: clusterClient(), prefix: 'clpub' })
    const seen: StorageNotice[] = []
    b.subscribe((change) => {
      if (change.circuit === 'pubsub') seen.push(change)
    })
    await new Promise((r) => setTimeout(r, 200))
    const record = { status: 'open', openedAt: 5, epoch: 1, updatedAt: 5 } as const
    expect(await a.compareAndSetStatus('pubsub', 0, record)).toBe(true)
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(seen).toEqual([{ circuit: 'pubsub', record }])
    for (const s of [a, b]) {
      await s.close()
      s.client.disconnect()
    }
  })
})
