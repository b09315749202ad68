import { describe, expect, it } from 'vitest'
import { Circuit, CircuitGroup, Registry, isCircuitDependencyError, isCircuitOpenError } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { fail, ok, rejection } from './support/fixtures.js'
import { MapStorage } from './support/map-storage.js'

/** One instance of a service: its own registry and circuit objects, on a storage shared with others. */
function instance(storage: MapStorage, clock: () => number) {
  const registry = new Registry({ defaultStorage: storage })
  const common = { registry, clock, jitter: 0, threshold: { failures: 1, within: 60_000 }, resetAfter: 10_000 }
  const payments = new Circuit('payments', common)
  const checkout = new Circuit('checkout', { ...common, dependsOn: ['payments'] })
  return { registry, payments, checkout }
}

describe('dependsOn (the Ruby gem BreakerMachines coordinated circuits)', () => {
  it('rejects with CircuitDependencyError, without running, while a dependency is open on another instance', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const one = instance(storage, clock)
    const two = instance(storage, clock)
    await rejection(one.payments.call(fail())) // payments opens on instance one
    let ran = false
    const error = await rejection(two.checkout.call(() => (ran = true)))
    expect(isCircuitDependencyError(error)).toBe(true)
    expect(error).toMatchObject({ circuit: 'checkout', dependency: 'payments' })
    expect(ran).toBe(false)
    expect((await two.checkout.stats()).rejections).toBe(1)
  })

  it('lets calls through again once the dependency may probe or has closed', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const { payments, checkout } = instance(storage, clock)
    await rejection(payments.call(fail()))
    clock.advance(10_000) // payments may probe now: it no longer blocks
    await expect(checkout.call(ok('paid'))).resolves.toBe('paid')
  })

  it('serves the fallback for a dependency rejection', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const registry = new Registry({ defaultStorage: storage })
    const payments = new Circuit('payments', { registry, clock, threshold: { failures: 1, within: 60_000 } })
    const checkout = new Circuit('checkout', { registry, clock, dependsOn: [payments], fallback: () => 'queued' })
    await rejection(payments.call(fail()))
    await expect(checkout.call(ok('paid'))).resolves.toBe('queued')
  })

  it('rejects with a ConfigurationError naming a dependency that is not registered', async () => {
    const registry = new Registry({ defaultStorage: new MapStorage({ clock: Date.now }) })
    const checkout = new Circuit('checkout', { registry, dependsOn: ['nowhere'] })
    await expect(checkout.call(ok(1))).rejects.toThrowError("dependsOn[0] of circuit 'checkout' names no registered circuit")
  })
})

describe('cascadesTo (the Ruby gem BreakerMachines cascading circuits)', () => {
  it('opens the named circuits through storage when this one opens, so every instance sees them open', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const make = () => {
      const registry = new Registry({ defaultStorage: storage })
      const common = { registry, clock, threshold: { failures: 1, within: 60_000 } }
      return {
        db: new Circuit('db', { ...common, cascadesTo: ['api', 'jobs'] }),
        api: new Circuit('api', common),
        jobs: new Circuit('jobs', common),
      }
    }
    const one = make()
    const two = make()
    await rejection(one.db.call(fail()))
    await one.db.flush()
    expect(isCircuitOpenError(await rejection(two.api.call(ok(1))))).toBe(true)
    expect(isCircuitOpenError(await rejection(two.jobs.call(ok(1))))).toBe(true)
  })
})

describe('isolate() (cockatiel isolate)', () => {
  it('holds the circuit open on every instance until every hold is released, then closes it', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const common = { storage, clock, registry: false as const, resetAfter: 1_000 }
    const a = new Circuit('isolated', common)
    const b = new Circuit('isolated', common)
    const holdA = await a.isolate()
    const holdB = await b.isolate()
    const error = await rejection(b.call(ok(1)))
    expect(error).toMatchObject({ code: 'ERR_CIRCUIT_OPEN', reason: 'isolated' })
    clock.advance(60_000) // no reset delay lifts a hold: no probe goes through
    expect(isCircuitOpenError(await rejection(a.call(ok(1))))).toBe(true)
    expect((await a.stats()).holds).toBe(2)
    await holdA.release()
    await holdA.release() // a second release of the same hold does nothing
    expect(isCircuitOpenError(await rejection(b.call(ok(1))))).toBe(true)
    await holdB.release()
    await expect(a.call(ok('free'))).resolves.toBe('free')
    expect(a.state).toBe('closed')
  })

  it('is not lifted by forceClose() or reset(), and is cleared by hardReset()', async () => {
    const clock = manualClock()
    const circuit = new Circuit('held', { storage: new MapStorage({ clock }), clock, registry: false })
    await circuit.isolate()
    await circuit.forceClose()
    await circuit.reset()
    expect(isCircuitOpenError(await rejection(circuit.call(ok(1))))).toBe(true)
    await circuit.hardReset()
    await expect(circuit.call(ok('after hard reset'))).resolves.toBe('after hard reset')
  })
})

describe('CircuitGroup (the Ruby gem BreakerMachines circuit groups)', () => {
  it('reports and controls a set of circuits at once', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const circuits = ['a', 'b', 'c'].map((name) => new Circuit(name, { storage, clock, registry: false }))
    const group = new CircuitGroup(circuits)
    expect(group.status()).toEqual({ a: 'closed', b: 'closed', c: 'closed' })
    await group.forceOpen()
    expect(group.open).toEqual(['a', 'b', 'c'])
    await group.forceClose()
    expect(group.allClosed).toBe(true)
    const hold = await group.isolate()
    expect(Object.values(await group.stats()).map((s) => s.holds)).toEqual([1, 1, 1])
    await hold.release()
    expect(group.allClosed).toBe(true)
  })

  it('refuses two circuits of one name', () => {
    const storage = new MapStorage({ clock: Date.now })
    const a = new Circuit('same', { storage, registry: false })
    const b = new Circuit('same', { storage, registry: false })
    expect(() => new CircuitGroup([a, b])).toThrowError('circuits[1] repeats a circuit name')
  })
})
