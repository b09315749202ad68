import { describe, expect, it } from 'vitest'
import { Circuit, NullStorage, isCircuitOpenError } from '@breaker/core'
import type { Storage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import type { StorageFallbackMessage } from '@breaker/core'
import { MemoryStorage } from '@breaker/storage-memory'
import { hanging, manualClock, throwing } from './fixtures/faulty.js'

const boom = () => {
  throw new Error('upstream down')
}

function circuitOn(storage: Storage, clock: () => number, name = 'payments') {
  return new Circuit(name, {
    storage,
    threshold: { failures: 3, within: 60_000 },
    resetAfter: 30_000,
    jitter: 0,
    clock,
    registry: false,
  })
}

describe('a circuit on [broken primary, memory, null]', () => {
  for (const [kind, primary] of [
    ['throws', () => throwing('redis')],
    ['hangs forever', () => hanging('redis')],
  ] as const) {
    it(`still serves and still trips when the primary ${kind}`, async () => {
      const { clock, advance } = manualClock()
      const memory = new MemoryStorage({ clock })
      const chain = new FallbackChainStorage(
        [
          { storage: primary(), timeout: 5 },
          { storage: memory, timeout: 2 },
          { storage: new NullStorage(), timeout: 1 },
        ],
        { clock },
      )
      const fallbacks: StorageFallbackMessage[] = []
      chain.on('fallback', (m) => fallbacks.push(m))
      const circuit = circuitOn(chain, clock)

      await expect(circuit.call(() => 'served')).resolves.toBe('served')
      for (let i = 0; i < 3; i++) await expect(circuit.call(boom)).rejects.toThrow('upstream down')
      const rejected = await circuit.call(() => 'never').catch((e: unknown) => e)
      expect(isCircuitOpenError(rejected)).toBe(true)
      await circuit.flush()
      expect(circuit.state).toBe('open')
      expect((await memory.getStatus('payments'))?.status).toBe('open')
      expect(fallbacks.length).toBeGreaterThanOrEqual(3)
      expect(fallbacks[0]).toMatchObject({ backend: 'redis', nextBackend: 'memory' })

      advance(30_000)
      await expect(circuit.call(() => 'recovered')).resolves.toBe('recovered')
      await circuit.flush()
      expect(circuit.state).toBe('closed')
    })
  }

  it('writes the trip back to the primary when it returns, so instances that only see the primary learn it', async () => {
    const { clock, advance } = manualClock()
    const redis = new MemoryStorage({ clock })
    let down = true
    const flaky = new Proxy(redis, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown
        if (typeof value !== 'function') return value
        if (key === 'subscribe') return (value as (...a: unknown[]) => unknown).bind(target)
        return (...args: unknown[]) => {
          if (down) throw new Error('ECONNREFUSED')
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
    const chain = new FallbackChainStorage(
      { primary: { storage: flaky, timeout: 5 }, fallback: { storage: new MemoryStorage({ clock }), timeout: 2 }, final: { storage: new NullStorage(), timeout: 1 } },
      { clock, unhealthyFor: 10_000 },
    )
    const here = circuitOn(chain, clock)
    for (let i = 0; i < 3; i++) await here.call(boom).catch(() => undefined)
    expect(here.state).toBe('open')

    down = false
    advance(10_000)
    await chain.getStatus('anything else')
    await chain.close()

    const elsewhere = circuitOn(redis, clock)
    const rejected = await elsewhere.call(() => 'never').catch((e: unknown) => e)
    expect(isCircuitOpenError(rejected)).toBe(true)
    expect((await redis.failureCount('payments', 60_000))).toBe(3)
  })
})
