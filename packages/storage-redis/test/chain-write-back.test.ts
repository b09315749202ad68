import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { NullStorage, isStorageTimeoutError } from '@breaker/core'
import type { StorageBackendHealthMessage, StorageFallbackMessage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { MemoryStorage } from '@breaker/storage-memory'
import { RedisStorage } from '@breaker/storage-redis'
import { startRedisServer } from './helpers/redis-server.mjs'
import { manualClock } from '../../storage-fallback/test/fixtures/faulty.js'

// A real redis-server, frozen with SIGSTOP: its sockets stay open and it answers nothing,
// which is what a hung primary looks like to a client.
const server = await startRedisServer()
afterAll(() => server.stop())

/** A connected client: the chain skips a RedisStorage whose client is not ready yet. */
async function connected(): Promise<Redis> {
  const client = new Redis(server.port, server.host, { connectTimeout: 1_000, maxRetriesPerRequest: 1 })
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
  return client
}

describe('a chain whose primary is a real Redis that stops answering', () => {
  it('abandons Redis at its deadline, serves from memory, skips it, and writes the trip back when it answers again', async () => {
    const { clock, advance } = manualClock()
    const client = await connected()
    const redis = new RedisStorage({ client, prefix: `fallback-${randomUUID()}`, timeout: 10_000 })
    const memory = new MemoryStorage({ clock })
    const chain = new FallbackChainStorage(
      [
        { storage: redis, timeout: 100 },
        { storage: memory, timeout: 5 },
        { storage: new NullStorage(), timeout: 1 },
      ],
      { clock, unhealthyAfter: 3, unhealthyFor: 10_000 },
    )
    const fallbacks: StorageFallbackMessage[] = []
    const health: StorageBackendHealthMessage[] = []
    chain.on('fallback', (m) => fallbacks.push(m))
    chain.on('backend_health', (m) => health.push(m))
    const circuit = `pay-${randomUUID()}`
    try {
      await chain.setStatus(circuit, { status: 'closed', openedAt: null, epoch: 1, updatedAt: clock() })
      expect(await redis.getStatus(circuit)).toMatchObject({ status: 'closed', epoch: 1 })

      server.pause()
      for (let i = 0; i < 3; i++) await chain.recordFailure(circuit, 1)
      expect(fallbacks.map((m) => [m.backend, m.nextBackend, m.errorClass])).toEqual([
        ['redis', 'memory', 'StorageTimeoutError'],
        ['redis', 'memory', 'StorageTimeoutError'],
        ['redis', 'memory', 'StorageTimeoutError'],
      ])
      expect(health).toMatchObject([{ backend: 'redis', healthy: false, consecutiveFailures: 3 }])
      expect(memory.failureCount(circuit, 60_000)).toBe(3)

      // Skipped now: answered by memory at once, synchronously.
      expect(chain.getStatus(circuit)).toBeNull()
      advance(10)
      expect(chain.compareAndSetStatus!(circuit, 0, { status: 'open', openedAt: clock(), epoch: 1, updatedAt: clock() })).toBe(true)

      server.resume()
      advance(10_000)
      // The probe: Redis answers again, is handed the trip first, then serves the read.
      expect(await chain.getStatus(circuit)).toMatchObject({ status: 'open', epoch: 2, openedAt: Date.UTC(2026, 0, 1) + 10 })
      expect(health.at(-1)).toMatchObject({ backend: 'redis', healthy: true })
      expect(await redis.getStatus(circuit)).toMatchObject({ status: 'open', epoch: 2 })
      // The three writes abandoned at their deadlines landed late; they are not written twice.
      expect(await redis.failureCount(circuit, 60_000)).toBe(3)
      expect(chain.health()[0]).toMatchObject({ healthy: true, owedWriteBacks: 0 })
    } finally {
      server.resume()
      await chain.close()
      await redis.close()
      client.disconnect()
    }
  })

  it('surfaces a StorageTimeoutError when Redis hangs and it is the only backend', async () => {
    const client = await connected()
    const redis = new RedisStorage({ client, prefix: `fallback-${randomUUID()}`, timeout: 10_000 })
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 50 }])
    try {
      server.pause()
      const error = await Promise.resolve(chain.getStatus('x')).catch((e: unknown) => e)
      expect(isStorageTimeoutError(error)).toBe(true)
      expect(error).toMatchObject({ storage: 'redis', timeoutMs: 50 })
    } finally {
      server.resume()
      await redis.close()
      client.disconnect()
    }
  })
})
