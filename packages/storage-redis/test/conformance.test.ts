import { afterAll, describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { RedisStorage } from '@breaker/storage-redis'
import { connect } from './helpers/client.js'
import { startRedisServer } from './helpers/redis-server.mjs'

const server = await startRedisServer()
afterAll(() => server.stop())

const teardown = async (storage: RedisStorage) => {
  await storage.close()
  storage.client.disconnect()
}

storageConformance({ describe, it, expect }, () => new RedisStorage({ client: connect(server) }), {
  name: 'redis',
  time: 'server',
  granularityMs: 1_000,
  teardown,
})

storageConformance(
  { describe, it, expect },
  () => new RedisStorage({ client: connect(server), prefix: 'one-in-flight', maxInFlight: 1 }),
  { name: 'redis with one batch in flight', time: 'server', granularityMs: 1_000, teardown },
)
