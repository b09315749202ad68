import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { KeyvStorage } from '@breaker/storage-keyv'
import { startRedisServer } from '../../storage-redis/test/helpers/redis-server.mjs'
import { memoryKeyv, postgresKeyv, preparePostgres, redisKeyv } from './helpers/stores.js'

const server = await startRedisServer()
await preparePostgres()
afterAll(() => server.stop())

// One prefix per run, so parallel runs and other test files sharing a store never meet.
const prefix = `conf-${randomUUID().slice(0, 8)}`
const options = { time: 'injected', granularityMs: 1_000, maxWindowMs: 60_000, teardown: (storage: KeyvStorage) => storage.keyv.disconnect() } as const

storageConformance({ describe, it, expect }, ({ clock }) => new KeyvStorage({ keyv: memoryKeyv(), clock, scope: 'process' }), {
  ...options,
  name: 'keyv on a Map',
})
storageConformance({ describe, it, expect }, ({ clock }) => new KeyvStorage({ keyv: redisKeyv(server.url), clock, prefix }), {
  ...options,
  name: 'keyv on Redis (@keyv/redis)',
})
storageConformance({ describe, it, expect }, ({ clock }) => new KeyvStorage({ keyv: postgresKeyv(), clock, prefix }), {
  ...options,
  name: 'keyv on PostgreSQL (@keyv/postgres)',
})
