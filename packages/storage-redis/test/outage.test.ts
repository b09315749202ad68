import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Circuit } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { MemoryStorage } from '@breaker/storage-memory'
import { RedisStorage } from '@breaker/storage-redis'
import { connect } from './helpers/client.js'
import { startRedisServer } from './helpers/redis-server.mjs'
import type { RedisServer } from './helpers/redis-server.mjs'

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

/** Runs `total` calls, `concurrency` at a time, through the circuit; answers how each one ended. */
async function load(circuit: Circuit, total: number, concurrency: number, during: () => Promise<void>) {
  let started = 0
  const outcomes = { ok: 0, rejected: [] as unknown[] }
  const worker = async () => {
    while (started < total) {
      started++
      try {
        if ((await circuit.call(async () => 'ok')) === 'ok') outcomes.ok++
      } catch (error) {
        outcomes.rejected.push(error)
      }
      await sleep(1)
    }
  }
  await Promise.all([...Array.from({ length: concurrency }, worker), during()])
  return outcomes
}

async function chainOn(server: RedisServer) {
  const client = connect(server, { commandTimeout: 200, maxRetriesPerRequest: 0 })
  await client.ping()
  const redis = new RedisStorage({ client, timeout: 50 })
  const storage = new FallbackChainStorage(
    [
      { storage: redis, timeout: 30 },
      { storage: new MemoryStorage(), timeout: 10 },
    ],
    { unhealthyAfter: 3, unhealthyFor: 100 },
  )
  const circuit = new Circuit(`outage-${server.port}`, {
    storage,
    registry: false,
    threshold: { failures: 1_000, within: 60_000 },
  })
  const fallbacks: string[] = []
  storage.on('fallback', (event) => fallbacks.push(event.errorClass))
  return { client, redis, circuit, fallbacks }
}

describe('RedisStorage behind a fallback chain', () => {
  it('loses no call and leaves no unhandled rejection while redis-server is paused (SIGSTOP) under load', async () => {
    const server = await startRedisServer()
    const { client, redis, circuit, fallbacks } = await chainOn(server)
    try {
      const outcomes = await load(circuit, 1_500, 20, async () => {
        await sleep(100)
        server.pause()
        await sleep(400)
        server.resume()
      })
      expect(outcomes.rejected).toEqual([])
      expect(outcomes.ok).toBe(1_500)
      // The outage was real: the chain fell back from Redis during the run.
      expect(fallbacks.length).toBeGreaterThan(0)
      await sleep(50)
      expect(unhandled).toEqual([])
    } finally {
      server.resume()
      await circuit.dispose()
      await redis.close()
      client.disconnect()
      await server.stop()
    }
  })

  it('loses no call and leaves no unhandled rejection when redis-server is killed under load', async () => {
    const server = await startRedisServer()
    const { client, redis, circuit, fallbacks } = await chainOn(server)
    client.on('error', () => {})
    try {
      const outcomes = await load(circuit, 1_500, 20, async () => {
        await sleep(100)
        await server.kill()
      })
      expect(outcomes.rejected).toEqual([])
      expect(outcomes.ok).toBe(1_500)
      // The outage was real: the chain fell back from Redis during the run.
      expect(fallbacks.length).toBeGreaterThan(0)
      await sleep(50)
      expect(unhandled).toEqual([])
    } finally {
      await circuit.dispose()
      await redis.close()
      client.disconnect()
    }
  })
})
