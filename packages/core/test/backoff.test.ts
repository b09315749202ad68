import { describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '../src/index.js'
import type { CircuitOptions } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { fail, ok, rejection, uniqueName } from './support/fixtures.js'
import { MapStorage } from './support/map-storage.js'

const options: CircuitOptions = {
  threshold: { failures: 1, within: 60_000 },
  resetAfter: 1_000,
  jitter: 0,
  resetBackoff: { multiplier: 2, max: 5_000 },
  registry: false,
}

function pair() {
  const clock = manualClock()
  const storage = new MapStorage({ clock })
  const name = uniqueName('backoff')
  return { clock, storage, a: new Circuit(name, { ...options, storage, clock }), b: new Circuit(name, { ...options, storage, clock }) }
}

/** Whether a call at this moment is rejected as open. */
async function rejected(circuit: Circuit<unknown>): Promise<boolean> {
  try {
    await circuit.call(ok('probe'))
    return false
  } catch (error) {
    return isCircuitOpenError(error)
  }
}

describe('resetBackoff: the reset delay grows on each reopening (cockatiel and resilience4j exponential backoff)', () => {
  it('doubles the delay on each failed probe, up to max, and every instance agrees', async () => {
    const { clock, a, b } = pair()
    await rejection(a.call(fail()))
    for (const delay of [1_000, 2_000, 4_000, 5_000, 5_000]) {
      clock.advance(delay - 1)
      // The other instance reads the reopening count from storage: it waits just as long.
      expect(await rejected(b), `still open 1 ms before ${delay} ms`).toBe(true)
      clock.advance(1)
      // The probe is let through at the delay, and fails: reopened, one more reopening.
      const error = await rejection(b.call(fail('probe failed')))
      expect((error as Error).message).toBe('probe failed')
    }
  })

  it('starts again from resetAfter once the circuit closed', async () => {
    const { clock, a } = pair()
    await rejection(a.call(fail()))
    clock.advance(1_000)
    await rejection(a.call(fail())) // reopened: next delay 2 000
    clock.advance(2_000)
    await a.call(ok('closes it'))
    expect(a.state).toBe('closed')
    await rejection(a.call(fail()))
    clock.advance(999)
    expect(await rejected(a)).toBe(true)
    clock.advance(1)
    await expect(a.call(ok('after 1 000 ms again'))).resolves.toBe('after 1 000 ms again')
  })

  it('rejects a multiplier of 1 or less and a max below resetAfter', () => {
    const storage = new MapStorage({ clock: Date.now })
    expect(() => new Circuit('x', { storage, registry: false, resetBackoff: { multiplier: 1, max: 10_000 } })).toThrowError('resetBackoff.multiplier must be a number > 1')
    expect(() => new Circuit('x', { storage, registry: false, resetAfter: 5_000, resetBackoff: { multiplier: 2, max: 1_000 } })).toThrowError(
      'resetBackoff.max must be at least resetAfter (5000 ms)',
    )
  })
})
