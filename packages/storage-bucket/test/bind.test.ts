import { describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '@breaker/core'
import { BucketMemoryStorage } from '@breaker/storage-bucket'

const START = Date.UTC(2026, 0, 1)

function setup() {
  let now = START
  const clock = () => now
  const storage = new BucketMemoryStorage({ clock })
  const circuit = new Circuit('bound', { storage, clock, registry: false, threshold: { failures: 2, within: 60_000 } })
  return { storage, circuit, advance: (ms: number) => void (now += ms) }
}

const fail = (circuit: Circuit) => circuit.call(() => Promise.reject(new Error('down'))).catch((e: unknown) => e)

describe('bind(): a circuit reads and counts through its own entry, with no lookup by name', () => {
  it('counts what the storage reports by name', async () => {
    const { storage, circuit } = setup()
    await circuit.call(() => 1)
    await fail(circuit)
    expect([storage.successCount('bound', 60_000), storage.failureCount('bound', 60_000)]).toEqual([1, 1])
    await fail(circuit)
    expect(storage.getStatus('bound')?.status).toBe('open')
    expect(isCircuitOpenError(await circuit.call(() => 1).catch((e: unknown) => e))).toBe(true)
  })

  it('keeps working after clear() and clearAll(): a retained entry is reset in place', async () => {
    const { storage, circuit } = setup()
    await fail(circuit)
    storage.clear('bound')
    expect(storage.failureCount('bound', 60_000)).toBe(0)
    await fail(circuit) // counted on the same entry the storage reads by name
    expect(storage.failureCount('bound', 60_000)).toBe(1)
    storage.clearAll()
    await fail(circuit)
    await fail(circuit)
    expect(storage.getStatus('bound')?.status).toBe('open')
  })

  it('drops the entry of a circuit nobody retains on clear, as before', async () => {
    const { storage, circuit } = setup()
    await fail(circuit)
    await circuit.dispose()
    storage.clear('bound')
    expect(storage.size).toBe(0)
  })
})
