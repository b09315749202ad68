import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { CHANNELS, NullStorage, isStorageError } from '../src/index.js'
import type { StorageError } from '../src/index.js'
import { fail, ok, rejection, setup } from './support/fixtures.js'

describe('storage failure without a chain', () => {
  for (const async of [false, true]) {
    const mode = async ? 'an async' : 'a sync'
    it(`lets the call proceed as if closed and reports it when ${mode} storage fails`, async () => {
      const errors: Array<[StorageError, unknown]> = []
      const { circuit, storage } = setup({ on: { storageError: (e, ctx) => void errors.push([e, ctx]) } }, { async })
      storage.failWith = new Error('connection refused')
      await expect(circuit.call(ok('served'))).resolves.toBe('served')
      await circuit.flush()
      expect(errors.map(([e, ctx]) => [e.operation, (ctx as { operation: string }).operation])).toEqual([
        ['getStatus', 'getStatus'],
        ['recordSuccess', 'recordSuccess'],
      ])
      expect(isStorageError(errors[0]![0])).toBe(true)
      expect(errors[0]![0].storage).toBe('map')
      expect((errors[0]![0].cause as Error).message).toBe('connection refused')
    })
  }

  it('keeps the caller’s own error when recording the failure fails too', async () => {
    const { circuit, storage } = setup({}, { async: true })
    storage.failWith = new Error('down')
    expect((await rejection(circuit.call(fail('upstream')))).message).toBe('upstream')
  })

  it('publishes storage errors on breaker:storage:error', async () => {
    const seen: unknown[] = []
    const fn = (m: unknown) => void seen.push(m)
    diagnostics.subscribe(CHANNELS.storageError, fn)
    try {
      const { circuit, storage } = setup()
      storage.failWith = new Error('down')
      await circuit.call(ok(1))
      expect(seen[0]).toMatchObject({ circuit: circuit.name, storage: 'map', operation: 'getStatus' })
    } finally {
      diagnostics.unsubscribe(CHANNELS.storageError, fn)
    }
  })

  it("rejects the call with StorageError under onStorageFailure: 'throw', without running it", async () => {
    const { circuit, storage } = setup({ onStorageFailure: 'throw' }, { async: true })
    storage.failWith = new Error('down')
    let ran = false
    const error = await rejection(circuit.call(() => (ran = true)))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toContain('down')
    expect(ran).toBe(false)
  })

  it('can swap to another storage from the storageError hook (the HA pattern)', async () => {
    const box: { swap?: () => void } = {}
    const { circuit, storage } = setup({
      on: { storageError: () => box.swap?.() },
      threshold: { failures: 1, within: 1000 },
    })
    const secondary = new (storage.constructor as typeof import('./support/map-storage.js').MapStorage)({ clock: storage.options.clock })
    box.swap = () => circuit.useStorage(secondary)
    storage.failWith = new Error('primary down')
    await circuit.call(ok(1))
    expect(circuit.storage).toBe(secondary)
    await rejection(circuit.call(fail()))
    expect(secondary.statuses.get(circuit.name)?.status).toBe('open')
  })

  it('never trips on NullStorage (fail-open by design)', async () => {
    const { circuit } = setup({ storage: new NullStorage(), threshold: { failures: 1, within: 1000 } })
    for (let i = 0; i < 5; i++) await rejection(circuit.call(fail()))
    await expect(circuit.call(ok('still open for business'))).resolves.toBe('still open for business')
  })
})
