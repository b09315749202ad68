import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CHANNELS, NullStorage } from '@breaker/core'
import type { MaybePromise, StorageBackendHealthMessage, StorageFallbackMessage, StorageOperationMessage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import type { FallbackChainOptions } from '@breaker/storage-fallback'
import { MemoryStorage } from '@breaker/storage-memory'
import { RedisStorage } from '@breaker/storage-redis'
import { startRedisServer } from './helpers/redis-server.mjs'

// A real redis-server for the whole file; each test uses its own client and key prefix.
// The chain's events are read from the diagnostics channels, which every version of the chain
// publishes on under the same names.
const server = await startRedisServer()
afterAll(() => server.stop())

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  server.resume()
  while (cleanups.length) await cleanups.pop()!()
})

function listen<T>(channel: string): T[] {
  const seen: T[] = []
  const fn = (message: unknown) => seen.push(message as T)
  diagnostics.subscribe(channel, fn)
  cleanups.push(() => diagnostics.unsubscribe(channel, fn))
  return seen
}

/**
 * RedisStorage on a fresh client, as a user writes it: `new Redis(url)`, used at once. Until
 * RedisStorage declares `ready()` itself, the test gives it the one the chain needs: false
 * while the client is still connecting.
 */
function redisStorage(): { client: Redis; redis: RedisStorage } {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 })
  const redis = new RedisStorage({ client, prefix: `chain-${randomUUID()}` })
  if (typeof (redis as { ready?: unknown }).ready !== 'function') {
    Object.defineProperty(redis, 'ready', { value: () => client.status === 'ready' })
  }
  cleanups.push(async () => {
    await redis.close()
    client.disconnect()
  })
  return { client, redis }
}

/** The chain the storage-fallback README recommends, on a fresh Redis client. */
function readmeChain(options: FallbackChainOptions = {}, redisTimeout = 100) {
  const { client, redis } = redisStorage()
  const chain = new FallbackChainStorage(
    [
      { storage: redis, timeout: redisTimeout },
      { storage: new MemoryStorage(), timeout: 5 },
      { storage: new NullStorage(), timeout: 1 },
    ],
    { unhealthyAfter: 3, recoverAfter: 500, unhealthyFor: 5_000, ...options },
  )
  cleanups.push(() => chain.close())
  return { client, redis, chain }
}

/** Starts `perSecond` operations a second for `durationMs`, in the bursts a 1 ms timer allows; waits for all of them. */
async function steadyLoad(perSecond: number, durationMs: number, op: (i: number) => MaybePromise<unknown>) {
  const pending: Array<Promise<unknown>> = []
  const t0 = performance.now()
  let issued = 0
  for (;;) {
    const elapsed = performance.now() - t0
    if (elapsed >= durationMs) break
    const due = Math.floor((elapsed * perSecond) / 1000)
    while (issued < due) pending.push(Promise.resolve(op(issued++)).catch(() => undefined))
    if (pending.length > 50_000) pending.splice(0, pending.length - 1_000)
    await sleep(1)
  }
  const elapsedMs = performance.now() - t0
  await Promise.all(pending)
  return { issued, perSecond: Math.round((issued * 1000) / elapsedMs) }
}

/** Blocks the event loop for `ms` milliseconds. */
function stall(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // a real stall: nothing else runs
  }
}

describe('a chain whose primary is a healthy real Redis', () => {
  it('stays on Redis through a 120 ms stall of this process with 10 operations in flight', async () => {
    const health = listen<StorageBackendHealthMessage>(CHANNELS.storageBackendHealth)
    const answered = listen<StorageOperationMessage>(CHANNELS.storageOperation)
    const { client, chain } = readmeChain()
    await client.ping()
    const circuit = `stall-${randomUUID()}`
    await chain.record(circuit, 'success', 0, 60_000)
    answered.length = 0
    const inFlight = Array.from({ length: 10 }, () => chain.record(circuit, 'failure', 0, 60_000))
    // The storage sends a tick's commands from process.nextTick: stall right after they went out,
    // so they are in flight — answered by Redis into the socket — while this process is stuck.
    await new Promise<void>((resolve) =>
      process.nextTick(() => {
        stall(120)
        resolve()
      }),
    )
    await Promise.all(inFlight)
    expect(health).toEqual([])
    expect(chain.health()[0]).toMatchObject({ healthy: true, consecutiveFailures: 0 })
    // Every answer came from Redis: the replies were there, read in the turn the deadlines fired.
    expect(answered.map((m) => m.backendIndex)).toEqual(Array(10).fill(0))
  })

  it('never marks Redis unhealthy under 15 000 operations a second for 3 s', async () => {
    const health = listen<StorageBackendHealthMessage>(CHANNELS.storageBackendHealth)
    const fallbacks = listen<StorageFallbackMessage>(CHANNELS.storageFallback)
    // Tighter than the README's 100 ms, so that bursts of this load do pass the deadline now and then.
    const { client, chain } = readmeChain({}, 50)
    await client.ping()
    const circuits = Array.from({ length: 20 }, (_, i) => `load-${i}-${randomUUID()}`)
    const run = await steadyLoad(15_000, 3_000, (i) =>
      i % 4 === 3 ? chain.failureCount(circuits[i % 20]!, 60_000) : chain.record(circuits[i % 20]!, i % 7 === 0 ? 'failure' : 'success', 0, 60_000),
    )
    console.info(`chain under load: ${run.perSecond} ops/s, ${run.issued} operations, ${fallbacks.length} fallbacks, ${health.length} health events`)
    // The rate offered (what this machine managed is printed above); load alone must never mark Redis.
    expect(run.perSecond).toBeGreaterThanOrEqual(5_000)
    expect(health).toEqual([])
    expect(chain.health()[0]).toMatchObject({ healthy: true })
  })

  it('never marks Redis unhealthy when used right after new Redis(url), and serves from it once connected', async () => {
    const health = listen<StorageBackendHealthMessage>(CHANNELS.storageBackendHealth)
    const answered = listen<StorageOperationMessage>(CHANNELS.storageOperation)
    // The tightest deadline the README ever showed: cold start must not trip it either.
    const { client, chain } = readmeChain({}, 5)
    const circuit = `cold-${randomUUID()}`
    const first = Array.from({ length: 20 }, () => chain.record(circuit, 'failure', 0, 60_000))
    await Promise.all(first)
    const connected = new Promise<void>((resolve) => (client.status === 'ready' ? resolve() : client.once('ready', () => resolve())))
    await connected
    for (let i = 0; i < 20; i++) await chain.record(circuit, 'success', 0, 60_000)
    expect(health).toEqual([])
    expect(answered.at(-1)).toMatchObject({ backendIndex: 0 })
    // What memory took while Redis was connecting was written back to it.
    await chain.close()
    expect(await chain.failureCount(circuit, 60_000)).toBe(20)
  })
})

describe('a chain whose primary Redis stops answering for 3 s (SIGSTOP)', () => {
  it('serves from memory meanwhile and from Redis again within 2 s of SIGCONT', async () => {
    const answered = listen<StorageOperationMessage>(CHANNELS.storageOperation)
    const health = listen<StorageBackendHealthMessage>(CHANNELS.storageBackendHealth)
    const { client, chain } = readmeChain({ recoverAfter: 1_000, unhealthyFor: 30_000 })
    await client.ping()
    const circuit = `stop-${randomUUID()}`
    let stopped = false
    const traffic = (async () => {
      while (!stopped) {
        await chain.record(circuit, 'success', 0, 60_000)
        await sleep(5)
      }
    })()
    try {
      await sleep(200)
      server.pause()
      const pausedAt = performance.now()
      await sleep(3_000)
      expect(chain.health()[0]!.healthy).toBe(false)
      const fromMemory = answered.filter((m) => m.backendIndex === 1).length
      expect(fromMemory).toBeGreaterThan(100)
      server.resume()
      const resumedAt = performance.now()
      answered.length = 0
      while (!answered.some((m) => m.backendIndex === 0) && performance.now() - resumedAt < 5_000) await sleep(5)
      const back = performance.now() - resumedAt
      console.info(`paused ${Math.round(resumedAt - pausedAt)} ms; Redis served again ${Math.round(back)} ms after SIGCONT; health events: ${health.map((m) => m.healthy).join(', ')}`)
      expect(back).toBeLessThan(2_000)
      expect(health.filter((m) => !m.healthy)[0]).toMatchObject({ backend: 'redis' })
      expect(health.at(-1)).toMatchObject({ backend: 'redis', healthy: true })
    } finally {
      stopped = true
      server.resume()
      await traffic
    }
  }, 15_000)
})

describe('writeBack() by hand while Redis is marked unhealthy', () => {
  it('tries Redis at once, writes back what it missed, and says the chain is back on it', async () => {
    const answered = listen<StorageOperationMessage>(CHANNELS.storageOperation)
    // A probe would come only after a minute: whatever brings Redis back here is writeBack().
    const { client, redis, chain } = readmeChain({ recoverAfter: 60_000, unhealthyFor: 60_000 })
    await client.ping()
    const circuit = `by-hand-${randomUUID()}`
    server.pause()
    for (let i = 0; i < 3; i++) await chain.record(circuit, 'failure', 0, 60_000)
    expect(chain.health()[0]).toMatchObject({ healthy: false, owedWriteBacks: 1 })
    await chain.setStatus(circuit, { status: 'open', openedAt: Date.now(), epoch: 1, updatedAt: Date.now() })
    server.resume()
    const results = await chain.writeBack()
    expect(results[0]).toEqual({ backend: 'redis', backendIndex: 0, outcome: 'written', written: 1, owed: 0, rejoined: true })
    expect(await redis.getStatus(circuit)).toMatchObject({ status: 'open', epoch: 1 })
    // The three failures abandoned at their deadlines landed late; none is written twice.
    expect(await redis.failureCount(circuit, 60_000)).toBe(3)
    answered.length = 0
    await chain.failureCount(circuit, 60_000)
    expect(answered.map((m) => m.backendIndex)).toEqual([0])
  })
})
