import { afterEach, describe, expect, it, vi } from 'vitest'
import { NullStorage, isStorageError, isStorageTimeoutError } from '@breaker/core'
import type { StatusRecord } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { GatedStorage, hanging, manualClock, rejecting, throwing } from './fixtures/faulty.js'
import { MapStorage } from './fixtures/map-storage.js'

const open = (epoch: number, at: number): StatusRecord => ({ status: 'open', openedAt: at, epoch, updatedAt: at })

afterEach(() => {
  vi.useRealTimers()
})

describe('routing', () => {
  it('answers synchronously, with no promise and no timer, when the primary answers synchronously', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { clock } = manualClock()
    const primary = new MapStorage(clock, 'primary')
    const chain = new FallbackChainStorage([{ storage: primary, timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], { clock })
    const record = open(1, clock())
    expect(chain.setStatus('a', record)).toBeUndefined()
    expect(chain.getStatus('a')).toEqual(record)
    expect(chain.record('a', 'failure', 3, 60_000)).toEqual({ failures: 1, successes: 0 })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('falls through a primary that throws synchronously, still synchronously', () => {
    const { clock } = manualClock()
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: memory, timeout: 2 }], { clock })
    expect(chain.recordFailure('a', 1)).toBeUndefined()
    expect(chain.failureCount('a', 60_000)).toBe(1)
    expect(memory.failureCount('a', 60_000)).toBe(1)
  })

  it('falls through a primary that rejects', async () => {
    const { clock } = manualClock()
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: rejecting('redis'), timeout: 5 }, { storage: memory, timeout: 2 }], { clock })
    await chain.recordFailure('a', 1)
    expect(await chain.failureCount('a', 60_000)).toBe(1)
  })

  it('abandons a primary that hangs at its deadline and answers from the next backend', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { clock } = manualClock()
    const memory = new MapStorage(clock, 'memory')
    memory.setStatus('a', open(2, clock()))
    const chain = new FallbackChainStorage([{ storage: hanging('redis'), timeout: 5 }, { storage: memory, timeout: 2 }], { clock })
    let settled = false
    const answer = Promise.resolve(chain.getStatus('a')).then((value) => {
      settled = true
      return value
    })
    await vi.advanceTimersByTimeAsync(4)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await answer).toEqual(open(2, clock()))
    expect(vi.getTimerCount()).toBe(0)
  })

  it('clears the deadline timer as soon as a promise answer settles', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { clock } = manualClock()
    const gated = new GatedStorage(clock, 'redis')
    const chain = new FallbackChainStorage([{ storage: gated, timeout: 50 }, { storage: new NullStorage(), timeout: 1 }], { clock })
    const answer = chain.failureCount('a', 1000)
    expect(vi.getTimerCount()).toBe(1)
    gated.release()
    expect(await answer).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('ignores an answer that arrives after the deadline', async () => {
    const { clock } = manualClock()
    const gated = new GatedStorage(clock, 'redis')
    gated.statuses.set('a', open(9, clock()))
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: gated, timeout: 1 }, { storage: memory, timeout: 2 }], { clock })
    const seen: unknown[] = []
    chain.on('operation', (m) => seen.push(m.backend))
    expect(await chain.getStatus('a')).toBeNull()
    gated.release()
    await new Promise((resolve) => setImmediate(resolve))
    expect(seen).toEqual(['memory'])
  })

  it('surfaces a hang on the last backend as a StorageTimeoutError', async () => {
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: hanging('slow'), timeout: 1 }], { clock })
    const error = await Promise.resolve()
      .then(() => chain.getStatus('a'))
      .catch((e: unknown) => e)
    expect(isStorageTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({ storage: 'slow', operation: 'getStatus', circuit: 'a', timeoutMs: 1 })
  })

  it("surfaces the last backend's own error, wrapped as a StorageError with the cause", () => {
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: throwing('memory', 'out of memory'), timeout: 2 }], { clock })
    let error: unknown
    try {
      chain.setStatus('a', open(1, clock()))
    } catch (e) {
      error = e
    }
    expect(isStorageError(error)).toBe(true)
    expect(error).toMatchObject({ storage: 'memory', operation: 'setStatus', circuit: 'a' })
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect(((error as Error).cause as Error).message).toBe('out of memory (setStatus)')
  })

  it('says so with a StorageError when every backend is skipped', () => {
    const { clock } = manualClock()
    const chain = new FallbackChainStorage([{ storage: throwing('redis'), timeout: 5 }, { storage: throwing('memory'), timeout: 2 }], {
      clock,
      unhealthyAfter: 1,
    })
    expect(() => chain.getStatus('a')).toThrow(/memory/)
    let error: unknown
    try {
      chain.getStatus('a')
    } catch (e) {
      error = e
    }
    expect(isStorageError(error)).toBe(true)
    expect((error as Error).message).toMatch(/every backend was skipped for getStatus: marked unhealthy or not ready \(redis until .*, memory until .*\)/)
    expect(error).toMatchObject({ storage: 'fallback_chain', operation: 'getStatus' })
  })

  it('passes an AbortSignal to a SignalAware backend and aborts it at the deadline', async () => {
    const { clock } = manualClock()
    const slow = hanging('redis', { signalAware: true })
    const chain = new FallbackChainStorage([{ storage: slow, timeout: 1 }, { storage: new MapStorage(clock), timeout: 2 }], { clock })
    await chain.failureCount('a', 1000)
    expect(slow.calls[0]!.args).toEqual(['a', 1000, slow.signals[0]])
    expect(slow.signals[0]!.aborted).toBe(true)
    expect(isStorageTimeoutError(slow.signals[0]!.reason)).toBe(true)
  })

  it('appends the signal after the contract arguments of every operation', async () => {
    const { clock } = manualClock()
    const slow = hanging('redis', { signalAware: true })
    const chain = new FallbackChainStorage([{ storage: slow, timeout: 1 }, { storage: new MapStorage(clock), timeout: 2 }], {
      clock,
      unhealthyAfter: 100,
    })
    const record = open(1, clock())
    // A new circuit each time: one the chain owes a write-back for would be written back first.
    await chain.getStatus('a1')
    await chain.setStatus('a2', record)
    await chain.compareAndSetStatus!('a3', 0, record)
    await chain.recordSuccess('a4', 1)
    await chain.recordFailure('a5', 2)
    await chain.successCount('a6', 100)
    await chain.failureCount('a7', 100)
    await chain.record('a8', 'failure', 3, 100)
    await chain.recordBatch('a9', { failures: 1, successes: 0 }, 100)
    await chain.acquireProbe!('a10', 1, 500)
    await chain.eventLog!('a11', 5)
    await chain.clear('a12')
    await chain.clearAll()
    expect(slow.calls.map((call) => [call.method, call.args.length, call.args.at(-1) instanceof AbortSignal])).toEqual([
      ['getStatus', 2, true],
      ['setStatus', 3, true],
      ['compareAndSetStatus', 4, true],
      ['recordSuccess', 3, true],
      ['recordFailure', 3, true],
      ['successCount', 3, true],
      ['failureCount', 3, true],
      ['record', 5, true],
      ['recordBatch', 4, true],
      ['acquireProbe', 4, true],
      ['eventLog', 3, true],
      ['clear', 2, true],
      ['clearAll', 1, true],
    ])
    expect(slow.signals.every((signal) => signal.aborted)).toBe(true)
  })

  it('passes no extra argument to a backend that did not declare SignalAware', async () => {
    const { clock } = manualClock()
    const slow = hanging('redis')
    const chain = new FallbackChainStorage([{ storage: slow, timeout: 1 }, { storage: new MapStorage(clock), timeout: 2 }], { clock })
    await chain.record('a', 'failure', 4, 1000)
    expect(slow.calls[0]!.args).toEqual(['a', 'failure', 4, 1000])
  })

  it('emulates record and recordBatch on a backend that offers neither', () => {
    const { clock } = manualClock()
    const map = new MapStorage(clock)
    const bare = Object.assign(Object.create(map) as MapStorage, { record: undefined, recordBatch: undefined })
    const chain = new FallbackChainStorage([{ storage: bare, timeout: 5 }], { clock })
    expect(chain.record('a', 'success', 1, 1000)).toEqual({ failures: 0, successes: 1 })
    expect(chain.recordBatch('a', { failures: 2, successes: 1 }, 1000)).toEqual({ failures: 2, successes: 2 })
  })

  it('clears a circuit on every backend, so none can serve it stale later', () => {
    const { clock } = manualClock()
    const primary = new MapStorage(clock, 'primary')
    const memory = new MapStorage(clock, 'memory')
    primary.setStatus('a', open(1, clock()))
    memory.setStatus('a', open(1, clock()))
    const chain = new FallbackChainStorage([{ storage: primary, timeout: 5 }, { storage: memory, timeout: 2 }], { clock })
    expect(chain.clear('a')).toBeUndefined()
    expect(primary.getStatus('a')).toBeNull()
    expect(memory.getStatus('a')).toBeNull()
  })
})
