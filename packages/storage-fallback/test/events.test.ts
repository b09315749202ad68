import diagnostics from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { CHANNELS, NullStorage } from '@breaker/core'
import type { HookErrorMessage, StorageChainOperationMessage, StorageFallbackMessage, StorageOperationMessage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { hanging, manualClock, throwing } from './fixtures/faulty.js'
import { MapStorage } from './fixtures/map-storage.js'

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function listen<T>(name: string): T[] {
  const seen: T[] = []
  const fn = (message: unknown) => seen.push(message as T)
  diagnostics.subscribe(name, fn)
  cleanups.push(() => diagnostics.unsubscribe(name, fn))
  return seen
}

describe('events', () => {
  it("publishes fallback with the gem's fields, camelCased, on breaker:storage:fallback", () => {
    const fallbacks = listen<StorageFallbackMessage>(CHANNELS.storageFallback)
    const { clock } = manualClock()
    const chain = new FallbackChainStorage(
      { primary: { storage: throwing('redis'), timeout: 5 }, fallback: { storage: new MapStorage(clock, 'memory'), timeout: 2 } },
      { clock },
    )
    chain.recordFailure('payments', 12)
    expect(fallbacks).toHaveLength(1)
    expect(fallbacks[0]).toEqual({
      backend: 'redis',
      nextBackend: 'memory',
      operation: 'recordFailure',
      errorClass: 'Error',
      errorMessage: 'connection refused (recordFailure)',
      durationMs: expect.any(Number),
      backendIndex: 0,
      circuit: 'payments',
    })
    expect(fallbacks[0]!.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('reports a timeout as a StorageTimeoutError fallback, and null as the next backend of the last one', async () => {
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: hanging('memory'), timeout: 1 }], { clock })
    const fallbacks: StorageFallbackMessage[] = []
    chain.on('fallback', (m) => fallbacks.push(m))
    await expect(Promise.resolve().then(() => chain.getStatus('a'))).rejects.toThrow(/within 1 ms/)
    expect(fallbacks.map((m) => [m.backend, m.nextBackend, m.errorClass])).toEqual([
      ['redis', 'memory', 'Error'],
      ['memory', null, 'StorageTimeoutError'],
    ])
  })

  it('emits operation for the backend that answered and chain_operation for the whole operation', () => {
    const operations = listen<StorageOperationMessage>(CHANNELS.storageOperation)
    const chainOps = listen<StorageChainOperationMessage>(CHANNELS.storageChainOperation)
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: new MapStorage(clock, 'memory'), timeout: 2 }], { clock })
    chain.failureCount('a', 1000)
    expect(operations).toEqual([{ backend: 'memory', backendIndex: 1, operation: 'failureCount', circuit: 'a', durationMs: expect.any(Number) }])
    expect(chainOps).toEqual([{ operation: 'failureCount', circuit: 'a', backend: 'memory', backendIndex: 1, durationMs: expect.any(Number), success: true }])
  })

  it('emits a failed chain_operation when no backend answered', () => {
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }], { clock })
    const chainOps: StorageChainOperationMessage[] = []
    chain.on('chain_operation', (m) => chainOps.push(m))
    expect(() => chain.getStatus('a')).toThrow()
    expect(chainOps).toEqual([{ operation: 'getStatus', circuit: 'a', backend: null, backendIndex: -1, durationMs: expect.any(Number), success: false }])
  })

  it('publishes skipped and health events on their channels too', () => {
    const skipped = listen(CHANNELS.storageBackendSkipped)
    const health = listen(CHANNELS.storageBackendHealth)
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], { clock, unhealthyAfter: 1 })
    chain.getStatus('a')
    chain.getStatus('a')
    expect(health).toHaveLength(1)
    expect(skipped).toHaveLength(1)
  })

  it('a listener that throws never reaches the caller; it is reported on breaker:circuit:hook_error', () => {
    const hookErrors = listen<HookErrorMessage>(CHANNELS.hookError)
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: new MapStorage(clock), timeout: 1 }], { clock })
    chain.on('fallback', () => {
      throw new Error('listener bug')
    })
    expect(chain.getStatus('a')).toBeNull()
    expect(hookErrors).toHaveLength(1)
    expect(hookErrors[0]).toMatchObject({ circuit: 'a', hook: 'fallback' })
  })

  it('on() refuses a name that is not a chain event, pointing from an old name to the new one', () => {
    const chain = new FallbackChainStorage([{ storage: new NullStorage() }])
    expect(() => chain.on('storage_fallback' as 'fallback', () => {})).toThrow(
      "[@breaker/storage-fallback] event must be one of operation, fallback, backend_skipped, backend_health, chain_operation (did you mean 'fallback'?), got \"storage_fallback\"",
    )
  })

  it('on() answers a function that removes the listener', () => {
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: new MapStorage(clock), timeout: 1 }], { clock })
    const seen: string[] = []
    const off = chain.on('fallback', (m) => seen.push(m.operation))
    chain.getStatus('a')
    off()
    chain.getStatus('a')
    expect(seen).toEqual(['getStatus'])
  })
})
