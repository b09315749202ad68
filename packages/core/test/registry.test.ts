import { describe, expect, it } from 'vitest'
import { Circuit, Registry, SNAPSHOT_VERSION, configure, registry } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { fail, ok, rejection, uniqueName } from './support/fixtures.js'
import { MapStorage } from './support/map-storage.js'

function setupRegistry() {
  const clock = manualClock()
  const storage = new MapStorage({ clock })
  const reg = new Registry({ defaultStorage: storage })
  return { clock, storage, reg }
}

describe('Registry', () => {
  it('circuits join the default registry unless told otherwise', async () => {
    const storage = new MapStorage({ clock: Date.now })
    const name = uniqueName('default')
    const circuit = new Circuit(name, { storage })
    expect(registry.get(name)).toBe(circuit)
    await circuit.dispose()
    expect(registry.get(name)).toBeUndefined()
  })

  it('refuses a second circuit of the same name, naming it', () => {
    const { reg } = setupRegistry()
    new Circuit('dup', { registry: reg })
    expect(() => new Circuit('dup', { registry: reg })).toThrowError(`name is already registered (pass registry: false for a second instance, or unregister the first), got "dup"`)
  })

  it('gives circuits created without storage the registry default, and configure() sets the global one', async () => {
    const { reg, storage } = setupRegistry()
    expect(new Circuit('uses-default', { registry: reg }).storage).toBe(storage)
    const global = new MapStorage({ clock: Date.now })
    configure({ defaultStorage: global })
    try {
      expect(new Circuit(uniqueName(), { registry: false }).storage).toBe(global)
    } finally {
      configure({})
    }
    expect(() => configure({ defaultStorage: {} as never })).toThrowError('defaultStorage must implement Storage')
  })

  it('forceOpen, forceClose, reset and hardReset by name; unknown names are a clear error', async () => {
    const { reg, clock } = setupRegistry()
    const circuit = new Circuit('by-name', { registry: reg, clock })
    await reg.forceOpen('by-name')
    expect(circuit.state).toBe('open')
    await reg.forceClose('by-name')
    expect(circuit.state).toBe('closed')
    await reg.reset('by-name')
    await reg.hardReset('by-name')
    // A Promise-returning method rejects; it never throws synchronously.
    const unknown = reg.forceOpen('nope')
    expect(unknown).toBeInstanceOf(Promise)
    await expect(unknown).rejects.toThrowError('name is not a registered circuit, got "nope"')
  })

  it('exportAll answers versioned plain JSON that importStates restores elsewhere without hooks', async () => {
    const source = setupRegistry()
    const a = new Circuit('a', { registry: source.reg, clock: source.clock, threshold: { failures: 1, within: 60_000 } })
    const b = new Circuit('b', { registry: source.reg, clock: source.clock, threshold: { failures: 5, within: 60_000 } })
    await rejection(a.call(fail()))
    await rejection(b.call(fail()))
    await b.call(ok(1))
    const snapshot = JSON.parse(JSON.stringify(await source.reg.exportAll(source.clock)))
    expect(snapshot).toMatchObject({
      version: SNAPSHOT_VERSION,
      exportedAt: source.clock(),
      circuits: [
        { name: 'a', state: 'open', openedAt: source.clock(), epoch: 1, failureCount: 1, successCount: 0 },
        { name: 'b', state: 'closed', epoch: 0, failureCount: 1, successCount: 1, config: { threshold: { failures: 5, within: 60_000 } } },
      ],
    })

    const target = setupRegistry()
    const fired: string[] = []
    const a2 = new Circuit('a', { registry: target.reg, clock: target.clock, on: { stateChange: (e) => void fired.push(e.to) } })
    new Circuit('b', { registry: target.reg, clock: target.clock })
    snapshot.circuits.push({ ...snapshot.circuits[0], name: 'gone' })
    expect(await target.reg.importStates(snapshot)).toEqual({ restored: ['a', 'b'], skipped: ['gone'] })
    expect(a2.state).toBe('open')
    expect(fired).toEqual([])
    expect((await target.reg.get('b')!.stats()).failures).toBe(1)
  })

  it('importStates refuses an unknown version and malformed entries before restoring anything', async () => {
    const { reg } = setupRegistry()
    const circuit = new Circuit('x', { registry: reg })
    await expect(reg.importStates({ version: 2, circuits: [] })).rejects.toThrowError(
      '[@breaker/core] snapshot.version must be 1 (this @breaker/core reads only that version), got 2',
    )
    const bad = { version: 1, circuits: [{ name: 'x', state: 'open', openedAt: 1, epoch: 1, failureCount: 0, successCount: 0 }, { name: 'y', state: 'broken' }] }
    await expect(reg.importStates(bad)).rejects.toThrowError(`snapshot.state must be 'closed', 'open' or 'half_open', got "broken"`)
    expect(circuit.state).toBe('closed')
  })

  it('syncState by name applies a bare state and says whether the circuit exists', () => {
    const { reg } = setupRegistry()
    const circuit = new Circuit('synced', { registry: reg })
    expect(reg.syncState('synced', 'open')).toBe(true)
    expect(circuit.state).toBe('open')
    expect(reg.syncState('unknown', 'open')).toBe(false)
  })
})
