import { describe, expect, it } from 'vitest'
import { Circuit, ConfigurationError, MAX_SNAPSHOT_COUNT, Registry, SNAPSHOT_VERSION } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { fail, ok, rejection, setup, uniqueName } from './support/fixtures.js'
import { MapStorage } from './support/map-storage.js'

const MAX_TIMER = 2_147_483_647

describe('syncState validates like a constructor', () => {
  const bad: Array<[string, unknown]> = [
    ['an unknown state', 'bogus'],
    ['a string epoch', { status: 'open', epoch: '51111' }],
    ['a NaN epoch', { status: 'open', epoch: Number.NaN }],
    ['an unsafe epoch', { status: 'open', epoch: 2 ** 53 }],
    ['a non-numeric openedAt', { status: 'open', openedAt: 'soon' }],
    ['a record that is not an object', 42],
  ]
  for (const [label, input] of bad) {
    it(`rejects ${label} with a ConfigurationError, and the circuit still trips afterwards`, async () => {
      const { circuit } = setup({ threshold: { failures: 1, within: 1000 } })
      expect(() => circuit.syncState(input as never)).toThrowError(ConfigurationError)
      await rejection(circuit.call(fail()))
      expect(circuit.state).toBe('open')
    })
  }

  it('accepts a valid record and applies it without hooks', () => {
    const { circuit, clock } = setup()
    circuit.syncState({ status: 'open', openedAt: clock(), epoch: 7, updatedAt: clock() })
    expect(circuit.state).toBe('open')
  })
})

describe('snapshots are checked and cheap to import', () => {
  const entry = (fields: Record<string, unknown>) => ({
    name: 'snap',
    state: 'closed',
    openedAt: null,
    epoch: 1,
    failureCount: 0,
    successCount: 0,
    lastFailureAt: null,
    config: {},
    ...fields,
  })

  for (const epoch of [2 ** 53, 1e300, -1, 1.5]) {
    it(`refuses an epoch of ${epoch}`, async () => {
      const reg = new Registry({ defaultStorage: new MapStorage({ clock: manualClock() }) })
      new Circuit('snap', { registry: reg })
      await expect(reg.importStates({ version: SNAPSHOT_VERSION, exportedAt: 0, circuits: [entry({ epoch })] })).rejects.toThrowError(
        'snapshot.epoch must be a safe integer >= 0',
      )
    })
  }

  it('scales huge counts down to the cap, keeping the failure rate, in one batch write', async () => {
    const clock = manualClock()
    const storage = new MapStorage({ clock })
    const reg = new Registry({ defaultStorage: storage })
    const circuit = new Circuit('snap', { registry: reg, threshold: { failures: 5, within: 60_000 } })
    await reg.importStates({ version: SNAPSHOT_VERSION, exportedAt: 0, circuits: [entry({ failureCount: 3e8, successCount: 1e8 })] })
    const stats = await circuit.stats()
    expect(stats.failures).toBe(MAX_SNAPSHOT_COUNT)
    expect(stats.successes).toBe(Math.round(MAX_SNAPSHOT_COUNT / 3))
    expect(storage.calls.filter((c) => c === 'recordBatch')).toHaveLength(1)
  })
})

describe('millisecond options stay within what Node timers honour', () => {
  for (const option of ['timeout', 'resetAfter', 'stateCacheTtl', 'storageTimeout'] as const) {
    it(`rejects ${option} above 2^31 - 1 ms`, () => {
      expect(() => setup({ [option]: MAX_TIMER + 1 })).toThrowError(`${option} must be at most ${MAX_TIMER} ms`)
      expect(() => setup({ [option]: MAX_TIMER })).not.toThrow()
    })
  }
  it('rejects batch.interval and threshold.within above 2^31 - 1 ms', () => {
    expect(() => setup({ batch: { interval: MAX_TIMER + 1, maxSize: 10 } })).toThrowError('batch.interval must be at most')
    expect(() => setup({ threshold: { failures: 1, within: 1e12 } })).toThrowError('threshold.within must be at most')
  })
})

describe('unknown options are named, with the closest known one', () => {
  it('rejects a misspelled option', () => {
    expect(() => setup({ tresholds: { failures: 1 } } as never)).toThrowError("tresholds is not an option (did you mean 'threshold'?)")
  })
  it('rejects a misspelled threshold field', () => {
    expect(() => setup({ threshold: { failures: 1, witihn: 10 } } as never)).toThrowError("threshold.witihn is not an option (did you mean 'within'?)")
  })
  it('lists the known options when nothing is close', () => {
    expect(() => setup({ zzzzzzzz: 1 } as never)).toThrowError('zzzzzzzz is not an option (known: storage, threshold')
  })
})

describe('a rate threshold without minimumCalls waits for 5 calls, as the Ruby gem does', () => {
  it('stays closed after one failure and opens at the fifth call', async () => {
    const { circuit } = setup({ threshold: { failureRate: 0.5, within: 60_000 } })
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed')
    for (let i = 0; i < 2; i++) await circuit.call(ok(i))
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('closed')
    await rejection(circuit.call(fail()))
    expect(circuit.state).toBe('open')
  })
})

describe('circuit names are checked at construction', () => {
  it('refuses a name with a lone surrogate', () => {
    expect(() => new Circuit('pay\uD800ments', { storage: new MapStorage({ clock: Date.now }), registry: false })).toThrowError(
      'name must be well-formed Unicode',
    )
  })
  it("refuses a name longer than the storage's maxNameBytes, counting UTF-8 bytes", () => {
    const storage = new MapStorage({ clock: Date.now, maxNameBytes: 8 })
    expect(() => new Circuit('ééééé', { storage, registry: false })).toThrowError("is 10 bytes in UTF-8; storage 'map' keeps names of at most 8 bytes")
    expect(() => new Circuit('éééé', { storage, registry: false })).not.toThrow()
  })
  it('checks the name again when the storage is swapped', () => {
    const circuit = new Circuit('a-long-name', { storage: new MapStorage({ clock: Date.now }), registry: false })
    expect(() => circuit.useStorage(new MapStorage({ clock: Date.now, maxNameBytes: 4 }))).toThrowError('keeps names of at most 4 bytes')
  })
})

describe('a circuit whose construction throws leaves nothing behind', () => {
  it('neither subscribes nor retains its name when its name is taken', () => {
    const storage = new MapStorage({ clock: Date.now, subscribe: true })
    const reg = new Registry()
    const name = uniqueName()
    new Circuit(name, { storage, registry: reg, stateCacheTtl: 1000 })
    const listeners = storage.listeners.size
    for (let i = 0; i < 1000; i++) {
      expect(() => new Circuit(name, { storage, registry: reg, stateCacheTtl: 1000 })).toThrowError('already registered')
    }
    expect(storage.listeners.size).toBe(listeners)
    expect(storage.retained.get(name)).toBe(1)
  })

  it('releases its name and its subscription on dispose', async () => {
    const storage = new MapStorage({ clock: Date.now, subscribe: true })
    const circuit = new Circuit(uniqueName(), { storage, registry: false, stateCacheTtl: 1000 })
    expect(storage.retained.get(circuit.name)).toBe(1)
    await circuit.dispose()
    expect(storage.retained.has(circuit.name)).toBe(false)
    expect(storage.listeners.size).toBe(0)
  })
})
