import { describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '../src/index.js'
import { fail, ok, rejection, setup } from './support/fixtures.js'
import { MapStorage } from './support/map-storage.js'

describe('manual control', () => {
  it('forceOpen opens now and fires open once; a second forceOpen does nothing', async () => {
    const opened: number[] = []
    const { circuit, clock } = setup({ on: { open: (e) => void opened.push(e.epoch) } })
    await circuit.forceOpen()
    await circuit.forceOpen()
    expect(opened).toEqual([1])
    expect(isCircuitOpenError(await rejection(circuit.call(ok(1))))).toBe(true)
    expect((await circuit.stats()).openedAt).toBe(clock())
  })

  it('forceClose closes an open circuit', async () => {
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 } })
    await rejection(circuit.call(fail()))
    await circuit.forceClose()
    await expect(circuit.call(ok('again'))).resolves.toBe('again')
  })

  it('reset keeps the counts in storage but restarts the threshold window', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 3, within: 60_000 } })
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(fail()))
    clock.advance(10)
    await circuit.reset()
    expect((await circuit.stats()).failures).toBe(2)
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed')
  })

  it('hardReset clears storage and closes under a newer epoch', async () => {
    const { circuit, storage } = setup({ threshold: { failures: 1, within: 1000 } })
    await rejection(circuit.call(fail()))
    await circuit.hardReset()
    const stats = await circuit.stats()
    expect(stats).toMatchObject({ state: 'closed', failures: 0, successes: 0, epoch: 2, lastFailureAt: null })
    expect(storage.events.get(circuit.name)).toBeUndefined()
  })

  it('stats reports counts over the threshold window and the last failure', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 10, within: 1000 } })
    await circuit.call(ok(1))
    await rejection(circuit.call(fail()))
    const at = clock()
    clock.advance(500)
    await circuit.call(ok(2))
    expect(await circuit.stats()).toEqual({
      state: 'closed',
      failures: 1,
      successes: 2,
      openedAt: null,
      epoch: 0,
      lastFailureAt: at,
      rejections: 0,
      fallbacks: 0,
      timeouts: 0,
      lastError: { class: 'Error', message: 'boom', at },
      holds: 0,
    })
    clock.advance(501)
    expect(await circuit.stats()).toMatchObject({ failures: 0, successes: 1 })
  })

  it('wrap guards a function and passes its arguments through', async () => {
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 } })
    const add = circuit.wrap(async (a: number, b: number) => a + b)
    await expect(add(2, 3)).resolves.toBe(5)
    const broken = circuit.wrap(async () => {
      throw new Error('x')
    })
    await rejection(broken())
    expect(isCircuitOpenError(await rejection(add(1, 1)))).toBe(true)
  })

  it('snapshot and restoreState carry state and counts to a fresh storage without firing hooks', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 5, within: 60_000 } })
    for (let i = 0; i < 3; i++) await rejection(circuit.call(fail()))
    await circuit.call(ok(1))
    const snap = await circuit.snapshot()
    expect(snap).toMatchObject({ name: circuit.name, state: 'closed', failureCount: 3, successCount: 1, epoch: 0 })
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap)

    const fired: string[] = []
    const target = new Circuit(circuit.name, {
      storage: new MapStorage({ clock }),
      clock,
      registry: false,
      threshold: { failures: 5, within: 60_000 },
      on: { stateChange: (e) => void fired.push(e.to) },
    })
    await target.restoreState(snap)
    await target.restoreState(snap) // idempotent: counts are topped up, not added twice
    expect(await target.stats()).toMatchObject({ failures: 3, successes: 1 })
    await rejection(target.call(fail()))
    await rejection(target.call(fail()))
    expect(target.state).toBe('open') // 3 restored + 2 new
    expect(fired).toEqual(['open'])
  })

  it('restoreState of an open snapshot keeps its openedAt, so the reset delay runs on', async () => {
    const { circuit, clock } = setup({ threshold: { failures: 1, within: 1000 }, resetAfter: 1000 })
    await circuit.restoreState({ name: circuit.name, state: 'open', openedAt: clock() - 600, epoch: 3, failureCount: 0, successCount: 0, lastFailureAt: null, config: {} })
    expect(isCircuitOpenError(await rejection(circuit.call(ok(1))))).toBe(true)
    clock.advance(400)
    await expect(circuit.call(ok('probe'))).resolves.toBe('probe')
  })

  it('dispose leaves the registry and stops listening', async () => {
    const { circuit } = setup()
    await circuit.dispose()
    expect(circuit.state).toBe('closed')
  })
})
