import { describe, expect, it } from 'vitest'
import { isCircuitOpenError } from '../src/index.js'
import { fail, ok, rejection, setup } from './support/fixtures.js'

describe('closed → open', () => {
  it('opens after the configured number of failures within the window', async () => {
    const { circuit } = setup({ threshold: { failures: 3, within: 10_000 } })
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed')
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('open')
  })

  it('does not count failures that left the window', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 3, within: 10_000 } })
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(fail()))
    clock.advance(10_001)
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed')
  })

  it('rejects calls while open without running them, with CircuitOpenError carrying openedAt', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 1, within: 1000 } })
    await rejection(circuit.call(fail()))
    let ran = false
    const error = await rejection(circuit.call(() => (ran = true)))
    expect(ran).toBe(false)
    expect(isCircuitOpenError(error)).toBe(true)
    expect(error.openedAt).toBe(clock())
    expect(error.reason).toBe('open')
  })

  it('opens on failure rate once minimumCalls were seen, and not before', async () => {
    const { circuit } = setup({ threshold: { failureRate: 0.5, minimumCalls: 4, within: 10_000 } })
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed') // 3 calls < minimumCalls
    await circuit.call(ok(1))
    expect(circuit.state).toBe('closed') // successes never trip
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('open') // 4 / 5 ≥ 0.5
  })

  it('stays closed while the failure rate is under the threshold', async () => {
    const { circuit } = setup({ threshold: { failureRate: 0.5, minimumCalls: 2, within: 10_000 } })
    for (let i = 0; i < 3; i++) await circuit.call(ok(i))
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed') // 2 / 5
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('open') // 3 / 6
  })

  it('runs fn before call() returns when the storage answers synchronously (no await on the path)', () => {
    const { circuit } = setup()
    let ran = false
    void circuit.call(() => (ran = true))
    expect(ran).toBe(true)
  })

  it('runs fn only after the status read when the storage answers with a promise', async () => {
    const { circuit } = setup({}, { async: true })
    let ran = false
    const done = circuit.call(() => (ran = true))
    expect(ran).toBe(false)
    await done
    expect(ran).toBe(true)
  })
})

describe('open → half_open → closed', () => {
  it('lets a probe through only after resetAfter, lazily on the next call', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 1, within: 1000 }, resetAfter: 5000 })
    await rejection(circuit.call(fail()))
    clock.advance(4999)
    expect(isCircuitOpenError(await rejection(circuit.call(ok(1))))).toBe(true)
    clock.advance(1)
    expect(circuit.state).toBe('open') // nothing happens without a call
    await expect(circuit.call(ok('probe'))).resolves.toBe('probe')
    expect(circuit.state).toBe('closed')
  })

  it('draws the reset delay within [(1 - jitter)·resetAfter, resetAfter]', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 1, within: 1000 }, resetAfter: 10_000, jitter: 0.5 })
    await rejection(circuit.call(fail()))
    clock.advance(4999)
    expect(isCircuitOpenError(await rejection(circuit.call(ok(1))))).toBe(true)
    clock.advance(5001) // now at resetAfter: always past the drawn delay
    await expect(circuit.call(ok(2))).resolves.toBe(2)
  })

  it('admits at most halfOpenCalls probes in flight and releases a permit when its probe settles', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 1, within: 1000 }, resetAfter: 1000, halfOpenCalls: 2, successThreshold: 3 })
    await rejection(circuit.call(fail()))
    clock.advance(1000)
    const gates: Array<() => void> = []
    const slow = () => new Promise<string>((resolve) => gates.push(() => resolve('slow')))
    const first = circuit.call(slow)
    const second = circuit.call(slow)
    await Promise.resolve()
    const third = await rejection(circuit.call(ok(3)))
    expect(third.reason).toBe('half_open_full')
    gates[0]!()
    await first
    await expect(circuit.call(ok(4))).resolves.toBe(4) // the released permit is reused
    gates[1]!()
    await second
  })

  it('releases a probe permit when the probe throws an error that does not count', async () => {
    const { circuit, clock } = setup({
      threshold: { failures: 1, within: 1000 },
      resetAfter: 1000,
      isFailure: (e) => (e as Error).message !== 'ignored',
    })
    await rejection(circuit.call(fail()))
    clock.advance(1000)
    await rejection(circuit.call(fail('ignored')))
    expect(circuit.state).toBe('half_open')
    await expect(circuit.call(ok('next probe'))).resolves.toBe('next probe')
  })

  it('closes only after successThreshold probe successes', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 1, within: 1000 }, resetAfter: 1000, successThreshold: 3 })
    await rejection(circuit.call(fail()))
    clock.advance(1000)
    await circuit.call(ok(1))
    await circuit.call(ok(2))
    expect(circuit.state).toBe('half_open')
    await circuit.call(ok(3))
    expect(circuit.state).toBe('closed')
  })

  it('reopens on one counted probe failure with a fresh openedAt', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 1, within: 1000 }, resetAfter: 1000, successThreshold: 2 })
    await rejection(circuit.call(fail()))
    const firstOpen = clock()
    clock.advance(1000)
    await circuit.call(ok(1))
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('open')
    const stats = await circuit.stats()
    expect(stats.openedAt).toBe(firstOpen + 1000)
    clock.advance(999)
    expect(isCircuitOpenError(await rejection(circuit.call(ok(1))))).toBe(true)
  })

  it('does not let the failures that tripped the circuit trip it again after it closes', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 3, within: 60_000 }, resetAfter: 1000 })
    for (let i = 0; i < 3; i++) await rejection(circuit.call(fail()))
    clock.advance(1000)
    await circuit.call(ok('probe'))
    expect(circuit.state).toBe('closed')
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed')
  })
})

describe('failures that count', () => {
  it('propagates errors isFailure rejects untouched and counts nothing', async () => {
    const { circuit, storage } = setup({ threshold: { failures: 1, within: 1000 }, isFailure: () => false })
    const original = new Error('not mine')
    expect(await rejection(circuit.call(() => Promise.reject(original)))).toBe(original)
    expect(circuit.state).toBe('closed')
    expect(storage.events.get(circuit.name)).toBeUndefined()
  })

  it('counts the failure when isFailure itself throws', async () => {
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 }, isFailure: () => { throw new Error('bad predicate') } })
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('open')
  })

  it('counts a synchronous throw from fn as a failure', async () => {
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 } })
    const error = await rejection(circuit.call(() => { throw new Error('sync') }))
    expect(error.message).toBe('sync')
    expect(circuit.state).toBe('open')
  })
})
