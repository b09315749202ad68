import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Circuit, Registry } from '@breaker/core'
import type { CircuitOptions } from '@breaker/core'
import { RedisStorage } from '@breaker/storage-redis'
import type { Redis } from 'ioredis'
import { connect } from './helpers/client.js'
import { startRedisServer } from './helpers/redis-server.mjs'

// Two instances of a service, in two processes, on one real Redis: what one does to the shared
// status (isolate, open a dependency, reopen with backoff) the other acts on.
const server = await startRedisServer()
const prefix = `features-${randomUUID()}`
let now = Date.UTC(2026, 0, 1)
let peer: ChildProcess
let client: Redis
let storage: RedisStorage
let registry: Registry
let sequence = 0

/** Sends a command to the other process, at the shared clock's time, and waits for its answer. */
function ask(op: string, args: Record<string, unknown>): Promise<unknown> {
  const id = ++sequence
  return new Promise((resolve) => {
    const listen = (message: { id?: number; answer?: unknown }) => {
      if (message.id !== id) return
      peer.off('message', listen)
      resolve(message.answer)
    }
    peer.on('message', listen)
    peer.send({ id, op, now, ...args })
  })
}

const local = (name: string, options: Partial<CircuitOptions> = {}) => new Circuit(name, { registry, clock: () => now, jitter: 0, ...options })
const outcome = (circuit: Circuit<unknown>) => circuit.call(() => 'ran').catch((error: { code?: string; reason?: string }) => error.reason ?? error.code)

beforeAll(async () => {
  peer = fork(fileURLToPath(new URL('./fixtures/features-peer.mjs', import.meta.url)), [String(server.port), prefix], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await new Promise((resolve) => peer.once('message', resolve))
  client = connect(server)
  storage = new RedisStorage({ client, prefix })
  registry = new Registry({ defaultStorage: storage })
})

afterAll(async () => {
  peer.kill()
  await storage.close()
  client.disconnect()
  await server.stop()
})

describe('features that hold across processes on Redis', () => {
  it('isolate() in one process holds the circuit open in the other until released', async () => {
    const name = `iso-${randomUUID()}`
    const circuit = local(name)
    await ask('isolate', { name })
    expect(await outcome(circuit)).toBe('isolated')
    await ask('release', { name })
    expect(await outcome(circuit)).toBe('ran')
  })

  it('dependsOn rejects here while the dependency was opened by the other process', async () => {
    const payments = `payments-${randomUUID()}`
    local(payments)
    const checkout = local(`checkout-${randomUUID()}`, { dependsOn: [payments] })
    expect(await outcome(checkout)).toBe('ran')
    await ask('forceOpen', { name: payments })
    expect(await outcome(checkout)).toBe('ERR_CIRCUIT_DEPENDENCY')
  })

  it('resetBackoff: the other process waits the grown delay of a reopening made here', async () => {
    const name = `backoff-${randomUUID()}`
    const options = { threshold: { failures: 1, within: 60_000 }, resetAfter: 1_000, resetBackoff: { multiplier: 4, max: 60_000 } }
    const circuit = local(name, options)
    await circuit.call(() => Promise.reject(new Error('down'))).catch(() => {})
    now += 1_000
    await circuit.call(() => Promise.reject(new Error('probe failed'))).catch(() => {}) // reopened: 4 000 ms now
    now += 3_999
    expect(await ask('call', { name, options })).toBe('ERR_CIRCUIT_OPEN')
    now += 1
    expect(await ask('call', { name, options })).toBe('ran')
  })
})
