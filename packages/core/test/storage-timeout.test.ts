import { describe, expect, it, vi } from 'vitest'
import { isStorageTimeoutError } from '../src/index.js'
import type { StorageError } from '../src/index.js'
import { MAX_WRITES_IN_FLIGHT } from '../src/outcomes.js'
import { fail, ok, rejection, setup } from './support/fixtures.js'

describe('storageTimeout bounds every storage answer a call awaits', () => {
  it('fails open when getStatus never settles, even with no call timeout, and reports a StorageTimeoutError', async () => {
    const errors: StorageError[] = []
    const { circuit, storage } = setup({ storageTimeout: 20, on: { storageError: (e) => void errors.push(e) } }, { async: true })
    storage.faults.set('getStatus', 'hang')
    await expect(circuit.call(ok('served'))).resolves.toBe('served')
    expect(errors.map((e) => [e.operation, isStorageTimeoutError(e)])).toContainEqual(['getStatus', true])
  })

  it('rejects the call instead with onStorageFailure: throw', async () => {
    const { circuit, storage } = setup({ storageTimeout: 20, onStorageFailure: 'throw' }, { async: true })
    storage.faults.set('getStatus', 'hang')
    expect(isStorageTimeoutError(await rejection(circuit.call(ok(1))))).toBe(true)
  })

  it('lets a counted failure reach its caller when the record write never settles', async () => {
    const { circuit, storage } = setup({ storageTimeout: 20 }, { async: true })
    storage.faults.set('record', 'hang')
    const error = await rejection(circuit.call(fail('own error')))
    expect((error as Error).message).toBe('own error')
  })

  it('never times a synchronous answer: no timer is set on in-process storage', async () => {
    const { circuit } = setup({ storageTimeout: 1, threshold: { failures: 1000, within: 60_000 } })
    const timers = vi.spyOn(globalThis, 'setTimeout')
    try {
      for (let i = 0; i < 100; i++) await circuit.call(ok(i))
      for (let i = 0; i < 100; i++) await rejection(circuit.call(fail()))
      expect(timers).not.toHaveBeenCalled()
    } finally {
      timers.mockRestore()
    }
  })
})

describe('writes in flight are bounded per circuit', () => {
  it('merges outcomes past the bound instead of queueing a write per call, and flush() settles', async () => {
    const { circuit, storage } = setup({ storageTimeout: 30 }, { async: true })
    storage.faults.set('recordSuccess', 'hang').set('recordBatch', 'hang')
    for (let i = 0; i < 5_000; i++) await circuit.call(ok(i))
    const writes = storage.calls.filter((c) => c === 'recordSuccess').length
    expect(writes).toBe(MAX_WRITES_IN_FLIGHT)
    await circuit.flush()
    // Each settled (timed-out) write lets the merged outcomes go out as one batch write.
    expect(storage.calls.filter((c) => c === 'recordBatch').length).toBeLessThanOrEqual(MAX_WRITES_IN_FLIGHT)
  })

  it('writes the merged outcomes once the storage answers again', async () => {
    const { circuit, storage } = setup({ storageTimeout: 30 }, { async: true })
    storage.faults.set('recordSuccess', 'hang')
    for (let i = 0; i < 200; i++) await circuit.call(ok(i))
    storage.faults.clear()
    await circuit.flush()
    expect((await circuit.stats()).successes).toBe(200 - MAX_WRITES_IN_FLIGHT)
  })
})
