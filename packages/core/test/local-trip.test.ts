import { describe, expect, it } from 'vitest'
import { isCircuitOpenError } from '../src/index.js'
import { fail, ok, rejection, setup } from './support/fixtures.js'

// A read-only database user: status writes are refused while reads answer "never written".
function readOnlyStatus(async: boolean) {
  const opens: number[] = []
  const rejects: string[] = []
  const errors: string[] = []
  const { circuit, storage, clock } = setup(
    {
      threshold: { failures: 20, within: 60_000 },
      resetAfter: 10_000,
      on: { open: (e) => void opens.push(e.epoch), reject: (e) => void rejects.push(e.reason), storageError: (e) => void errors.push(e.operation) },
    },
    { async },
  )
  storage.faults.set('compareAndSetStatus', 'throw').set('setStatus', 'throw')
  return { circuit, storage, clock, opens, rejects, errors }
}

describe('a transition storage refuses holds in this instance (local trip)', () => {
  for (const async of [false, true]) {
    it(`fires open once and rejects the rest of 500 failing calls (${async ? 'async' : 'sync'} storage)`, async () => {
      const { circuit, opens, rejects, errors } = readOnlyStatus(async)
      for (let i = 0; i < 500; i++) await rejection(circuit.call(fail()))
      expect(opens).toEqual([1])
      expect(rejects).toHaveLength(480)
      expect(circuit.state).toBe('open')
      expect(errors).toContain('compareAndSetStatus')
    })
  }

  it('lets a probe through after its own reset delay, and closes on its success', async () => {
    const { circuit, clock } = readOnlyStatus(false)
    for (let i = 0; i < 20; i++) await rejection(circuit.call(fail()))
    expect(isCircuitOpenError(await rejection(circuit.call(ok(1))))).toBe(true)
    clock.advance(10_000)
    await expect(circuit.call(ok('probe'))).resolves.toBe('probe')
    expect(circuit.state).toBe('closed')
  })

  it('fires open again only for a new local trip, after a failed probe', async () => {
    const { circuit, clock, opens } = readOnlyStatus(false)
    for (let i = 0; i < 20; i++) await rejection(circuit.call(fail()))
    clock.advance(10_000)
    await rejection(circuit.call(fail()))
    for (let i = 0; i < 50; i++) await rejection(circuit.call(fail()))
    expect(opens).toHaveLength(2)
  })

  it('gives way to a newer epoch read from storage', async () => {
    const { circuit, storage, clock } = readOnlyStatus(false)
    for (let i = 0; i < 20; i++) await rejection(circuit.call(fail()))
    storage.statuses.set(circuit.name, { status: 'closed', openedAt: null, epoch: 5, updatedAt: clock() })
    await expect(circuit.call(ok('after'))).resolves.toBe('after')
    expect(circuit.state).toBe('closed')
  })

  it('gives way to storage once storage answers a compare-and-set again', async () => {
    const { circuit, storage, clock } = readOnlyStatus(false)
    for (let i = 0; i < 20; i++) await rejection(circuit.call(fail()))
    storage.faults.clear()
    clock.advance(10_000)
    // The local trip's epoch (1) is not the stored one (0): the compare-and-set is lost, storage wins.
    await expect(circuit.call(ok('served'))).resolves.toBe('served')
    expect(circuit.state).toBe('closed')
  })
})
