import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { isConfigurationError, isStorageTimeoutError } from '@breaker/core'
import { circuitKeys, redisLock } from '@breaker/storage-redis'
import { connect } from './helpers/client.js'
import { startRedisServer } from './helpers/redis-server.mjs'

const server = await startRedisServer()
const client = connect(server)
afterAll(async () => {
  client.disconnect()
  await server.stop()
})

const transition = (circuit: string) => ({ circuit, from: 'closed', to: 'open', openedAt: 1, epoch: 1 }) as const

describe('redisLock', () => {
  it('lets one holder at a time run, the next one after the release', async () => {
    const lock = redisLock(client, { wait: 2_000, retryDelay: 5 })
    const name = randomUUID()
    const order: string[] = []
    await Promise.all(
      ['a', 'b', 'c'].map((who) =>
        lock.withLock(name, async () => {
          order.push(`${who}+`)
          await sleep(20)
          order.push(`${who}-`)
        }),
      ),
    )
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1))
    expect(await client.exists(circuitKeys('breaker', name).lock)).toBe(0)
  })

  it('gives up after the bounded wait with a StorageTimeoutError', async () => {
    const lock = redisLock(client, { wait: 60, retryDelay: 10 })
    const name = randomUUID()
    const release = await lock.acquire(name)
    const error = await lock.acquire(name).catch((e: unknown) => e)
    expect(isStorageTimeoutError(error)).toBe(true)
    expect((error as Error).cause).toBeInstanceOf(Error)
    await release()
  })

  it('never deletes a lock that lapsed and was taken by someone else', async () => {
    const lock = redisLock(client, { ttl: 40, wait: 500, retryDelay: 5 })
    const name = randomUUID()
    const late = await lock.acquire(name)
    await sleep(60)
    const current = await lock.acquire(name)
    await late()
    expect(await client.exists(circuitKeys('breaker', name).lock)).toBe(1)
    await current()
    expect(await client.exists(circuitKeys('breaker', name).lock)).toBe(0)
  })

  it('releases when the guarded function throws', async () => {
    const lock = redisLock(client)
    const name = randomUUID()
    await expect(lock.withLock(name, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await client.exists(circuitKeys('breaker', name).lock)).toBe(0)
  })

  it('as beforeTransition, answers the release the circuit calls once the transition is written', async () => {
    const lock = redisLock(client, { prefix: 'hooks' })
    const name = randomUUID()
    const release = await lock.beforeTransition(transition(name))
    expect(await client.pttl(circuitKeys('hooks', name).lock)).toBeGreaterThan(0)
    await release()
    expect(await client.exists(circuitKeys('hooks', name).lock)).toBe(0)
  })

  it.each([{ ttl: 0 }, { wait: -1 }, { retryDelay: Number.NaN }, { prefix: '{x}' }])('rejects %j', (bad) => {
    expect(() => redisLock(client, bad)).toThrow(expect.objectContaining({ code: 'ERR_CONFIGURATION' }))
    try {
      redisLock(client, bad)
    } catch (error) {
      expect(isConfigurationError(error)).toBe(true)
    }
  })
})
