import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '@breaker/core'
import type { CircuitOptions } from '@breaker/core'
import { RedisStorage, circuitKeys, redisLock } from '@breaker/storage-redis'
import type { Redis } from 'ioredis'
import { connect } from './helpers/client.js'
import { startRedisServer } from './helpers/redis-server.mjs'

const server = await startRedisServer()
afterAll(() => server.stop())

const open: Array<{ circuit: Circuit; storage: RedisStorage; client: Redis }> = []
afterEach(async () => {
  for (const { circuit, storage, client } of open.splice(0)) {
    await circuit.dispose()
    await storage.close()
    client.disconnect()
  }
})

/** One simulated instance: its own connection, storage and circuit, sharing the name and clock. */
function instance(name: string, clock: () => number, options: Partial<CircuitOptions> = {}) {
  const client = connect(server)
  const storage = new RedisStorage({ client, prefix: 'circuits' })
  const circuit = new Circuit(name, {
    storage,
    clock,
    registry: false,
    threshold: { failures: 2, within: 60_000 },
    resetAfter: 1_000,
    jitter: 0,
    halfOpenCalls: 1,
    ...options,
  })
  open.push({ circuit, storage, client })
  return circuit
}

const fail = (circuit: Circuit) => circuit.call(() => Promise.reject(new Error('down'))).catch(() => {})

describe('Circuit on RedisStorage', () => {
  it('admits at most halfOpenCalls probes across instances while half_open', async () => {
    let now = 1_800_000_000_000
    const clock = () => now
    const name = randomUUID()
    const a = instance(name, clock)
    const b = instance(name, clock)
    await fail(a)
    await fail(a)
    expect(a.state).toBe('open')
    now += 1_500
    let finish: (value: string) => void = () => {}
    const probe = a.call(() => new Promise<string>((resolve) => (finish = resolve)))
    await new Promise((r) => setTimeout(r, 50))
    const rejected = await b.call(() => 'second probe').catch((e: unknown) => e)
    expect(isCircuitOpenError(rejected)).toBe(true)
    expect((rejected as { reason: string }).reason).toBe('half_open_full')
    finish('ok')
    expect(await probe).toBe('ok')
    // The probe's outcome is written after the call resolves; the transition follows it.
    for (let i = 0; i < 100 && a.state !== 'closed'; i++) await new Promise((r) => setTimeout(r, 5))
    expect(a.state).toBe('closed')
    expect(await b.call(() => 'after')).toBe('after')
  })

  it('holds a redisLock only for the transition, when used as beforeTransition', async () => {
    const name = randomUUID()
    const lockClient = connect(server)
    const lock = redisLock(lockClient, { prefix: 'circuits', wait: 500 })
    const seen: Array<number> = []
    const client = connect(server)
    const circuit = instance(name, Date.now, {
      on: {
        beforeTransition: lock.beforeTransition,
        open: () => {
          void client.exists(circuitKeys('circuits', name).lock).then((n) => seen.push(n))
        },
      },
    })
    await fail(circuit)
    await fail(circuit)
    expect(circuit.state).toBe('open')
    await new Promise((r) => setTimeout(r, 50))
    expect(await client.exists(circuitKeys('circuits', name).lock)).toBe(0)
    expect(seen).toHaveLength(1)
    client.disconnect()
    lockClient.disconnect()
  })
})
