import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '@breaker/core'
import type { StorageNotice } from '@breaker/core'
import { RedisStorage } from '@breaker/storage-redis'
import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { startFixture } from './helpers/processes.mjs'
import { startSentinel } from './helpers/redis-server.mjs'
import { until } from './helpers/until.js'

// A real master, replica and Sentinel (down after 1 s), started once for this file; the master
// is killed with SIGKILL and Sentinel promotes the replica. The child process imports the built dist.
const set = await startSentinel()
afterAll(() => set.stop())
const fixture = fileURLToPath(new URL('./fixtures/ha-worker.mjs', import.meta.url))

function sentinelClient(retryMs: number): Redis {
  const options = {
    sentinels: set.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: set.name,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => retryMs,
  }
  // ioredis 6's option types do not survive exactOptionalPropertyTypes (replyMapping?: …).
  const client = new Redis(options as Omit<RedisOptions, 'replyMapping'>)
  client.on('error', () => {})
  return client
}

describe('RedisStorage behind Redis Sentinel', () => {
  it("shows a peer caching status for 60 s a trip made while its subscriber reconnected, within 2 s of the reconnect", async () => {
    const prefix = `sent${randomUUID().slice(0, 6)}`
    const name = `gap-${randomUUID()}`
    const client = sentinelClient(50)
    // This subscriber comes back slowly, so the trip lands while it is away.
    const subscriber = sentinelClient(4_000)
    const storage = new RedisStorage({ client, subscriber, prefix })
    const notices: Array<StorageNotice & { at: number }> = []
    const stop = storage.subscribe((notice) => notices.push({ ...notice, at: Date.now() }))
    const circuit = new Circuit(name, { storage, registry: false, stateCacheTtl: 60_000, threshold: { failures: 3, within: 60_000 } })
    const topology = JSON.stringify({ kind: 'sentinel', sentinels: set.sentinels.map((s) => s.port), name: set.name })
    const tripper = startFixture<{ trippedAt: number | null }>(fixture, [topology, prefix, 'trip', JSON.stringify({ circuit: name })], 60_000)
    try {
      await until(() => subscriber.status === 'ready', 10_000, 'the subscriber is connected')
      await sleep(200)
      expect(await circuit.call(() => 'ok')).toBe('ok')
      await tripper.ready
      let resubscribedAt = 0
      subscriber.on('ready', () => (resubscribedAt ||= Date.now()))
      await set.master.kill()
      tripper.send({ go: true })
      const { trippedAt } = await tripper.result
      expect(trippedAt).not.toBeNull()
      // The trip was made in the gap: the subscriber was not back yet.
      expect(resubscribedAt === 0 || resubscribedAt > trippedAt!).toBe(true)
      await until(() => resubscribedAt > 0, 15_000, 'the subscriber reconnects')
      const seenAt = await until(
        () => circuit.call(() => 'ok').then(() => false, (error: unknown) => isCircuitOpenError(error)),
        4_000,
        'the trip is seen',
      )
      expect(seenAt - resubscribedAt).toBeLessThanOrEqual(2_000)
      // How: a resync notice once the channel was subscribed again.
      expect(notices.some((n) => n.resync && n.circuit === undefined && n.at >= resubscribedAt)).toBe(true)
    } finally {
      stop()
      tripper.child.kill()
      await circuit.dispose()
      await storage.close()
      client.disconnect()
      subscriber.disconnect()
    }
  }, 60_000)
})
