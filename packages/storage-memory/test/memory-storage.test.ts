import { isConfigurationError, isThenable } from '@breaker/core'
import type { StatusRecord } from '@breaker/core'
import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '@breaker/storage-memory'

const START = Date.UTC(2026, 0, 1)

function setup(options: { maxEvents?: number; maxWindowMs?: number } = {}) {
  let now = START
  const storage = new MemoryStorage({ clock: () => now, ...options })
  return {
    storage,
    advance: (ms: number) => void (now += ms),
    set: (at: number) => void (now = at),
  }
}

describe('MemoryStorage options', () => {
  it.each([
    ['clock', { clock: 42 }, 'clock must be a function answering epoch milliseconds, got 42'],
    ['maxEvents', { maxEvents: -1 }, 'maxEvents must be a non-negative integer, got -1'],
    ['maxEvents', { maxEvents: 1.5 }, 'maxEvents must be a non-negative integer, got 1.5'],
    ['maxEvents', { maxEvents: '10' }, 'maxEvents must be a non-negative integer, got "10"'],
    ['maxWindowMs', { maxWindowMs: 0 }, 'maxWindowMs must be a positive finite number of milliseconds, got 0'],
    ['maxWindowMs', { maxWindowMs: Number.POSITIVE_INFINITY }, 'maxWindowMs must be a positive finite number of milliseconds, got Infinity'],
  ])('rejects a bad %s with a ConfigurationError naming option and value', (option, options, message) => {
    let thrown: unknown
    try {
      new MemoryStorage(options as never)
    } catch (error) {
      thrown = error
    }
    expect(isConfigurationError(thrown)).toBe(true)
    expect((thrown as { option: string }).option).toBe(option)
    expect((thrown as Error).message).toBe(`[@breaker/storage-memory] ${message}`)
  })

  it('accepts no options at all and reads Date.now', () => {
    const storage = new MemoryStorage()
    storage.recordFailure('c', 1)
    expect(storage.eventLog('c', 1)[0]!.at).toBeGreaterThan(Date.UTC(2025, 0, 1))
  })
})

describe('MemoryStorage', () => {
  it('answers every method synchronously, never with a promise', () => {
    const { storage } = setup()
    const record: StatusRecord = { status: 'open', openedAt: START, epoch: 1, updatedAt: START }
    const answers = [
      storage.getStatus('c'),
      storage.setStatus('c', record),
      storage.compareAndSetStatus('c', 1, { ...record, epoch: 2 }),
      storage.recordSuccess('c', 1),
      storage.recordFailure('c', 1),
      storage.successCount('c', 1000),
      storage.failureCount('c', 1000),
      storage.record('c', 'failure', 1, 1000),
      storage.recordBatch('c', { failures: 1, successes: 1 }, 1000),
      storage.acquireProbe('c', 1, 1000),
      storage.eventLog('c', 10),
      storage.clear('c'),
      storage.clearAll(),
    ]
    for (const answer of answers) expect(isThenable(answer as never)).toBe(false)
  })

  it('counts an outcome exactly windowMs old, and not one a millisecond older', () => {
    const { storage, advance } = setup()
    storage.recordFailure('c', 1)
    advance(60_000)
    expect(storage.failureCount('c', 60_000)).toBe(1)
    advance(1)
    expect(storage.failureCount('c', 60_000)).toBe(0)
  })

  it('keeps counts exact far beyond maxEvents while the event log keeps only the newest maxEvents', () => {
    const { storage, advance } = setup({ maxEvents: 100 })
    for (let i = 0; i < 10_000; i++) {
      storage.recordFailure('c', i)
      if (i % 3 === 0) storage.recordSuccess('c', i)
      if (i % 10 === 0) advance(1)
    }
    expect(storage.failureCount('c', 60_000)).toBe(10_000)
    expect(storage.successCount('c', 60_000)).toBe(3_334)
    const log = storage.eventLog('c', 1_000_000)
    expect(log).toHaveLength(100)
    expect(log.slice(0, 2)).toEqual([
      { type: 'success', at: START + 1000, durationMs: 9_999 },
      { type: 'failure', at: START + 1000, durationMs: 9_999 },
    ])
    expect(log.map((entry) => entry.at)).toEqual([...log.map((entry) => entry.at)].sort((a, b) => b - a))
    expect(storage.footprint('c').logEntries).toBe(100)
  })

  it('keeps no event log at all with maxEvents 0, and still counts', () => {
    const { storage } = setup({ maxEvents: 0 })
    storage.recordFailure('c', 1)
    expect(storage.eventLog('c', 10)).toEqual([])
    expect(storage.failureCount('c', 1000)).toBe(1)
  })

  it('holds only the outcomes of the last maxWindowMs, so memory stays bounded under a steady rate', () => {
    const { storage, advance } = setup({ maxWindowMs: 60_000, maxEvents: 10 })
    // One outcome per millisecond for 10 minutes: 600 000 outcomes written, 60 001 inside the window.
    for (let i = 0; i < 600_000; i++) {
      storage.recordSuccess('c', 0)
      advance(1)
    }
    const { outcomes, bytes } = storage.footprint('c')
    expect(outcomes).toBeLessThanOrEqual(60_001)
    expect(bytes).toBeLessThanOrEqual(131_072 * 8 + 1024)
    expect(storage.successCount('c', 60_000)).toBe(60_000)
    // Once the burst has aged out, a count gives the memory back.
    advance(120_000)
    expect(storage.successCount('c', 60_000)).toBe(0)
    expect(storage.footprint('c').outcomes).toBe(0)
    expect(storage.footprint('c').bytes).toBeLessThanOrEqual(64 * 8 * 2 + 1024)
  })

  it('counts what it keeps when asked for a window longer than maxWindowMs', () => {
    const { storage, advance } = setup({ maxWindowMs: 10_000 })
    storage.recordFailure('c', 1)
    advance(5_000)
    storage.recordFailure('c', 1)
    advance(6_000)
    expect(storage.failureCount('c', 60_000)).toBe(1)
  })

  it('does not lose, double or misorder outcomes when the clock steps backwards', () => {
    const { storage, advance, set } = setup()
    storage.recordFailure('c', 1)
    advance(10_000)
    storage.recordFailure('c', 2)
    set(START + 4_000) // NTP step back by 6 s
    storage.recordFailure('c', 3)
    storage.recordSuccess('c', 4)
    expect(storage.failureCount('c', 60_000)).toBe(3)
    expect(storage.successCount('c', 60_000)).toBe(1)
    expect(storage.record('c', 'failure', 5, 60_000)).toEqual({ failures: 4, successes: 1 })
    // Stamped no earlier than the newest outcome already held: the log stays newest first.
    expect(storage.eventLog('c', 10).map((entry) => [entry.durationMs, entry.at])).toEqual([
      [5, START + 10_000],
      [4, START + 10_000],
      [3, START + 10_000],
      [2, START + 10_000],
      [1, START],
    ])
    set(START + 70_001)
    expect(storage.failureCount('c', 60_000)).toBe(0)
    storage.recordFailure('c', 6)
    expect(storage.failureCount('c', 60_000)).toBe(1)
  })

  it('counts a recordBatch exactly however large, logging at most maxEvents of it', () => {
    const { storage } = setup({ maxEvents: 50 })
    expect(storage.recordBatch('c', { failures: 70, successes: 30 }, 1000)).toEqual({ failures: 70, successes: 30 })
    const log = storage.eventLog('c', 1000)
    expect(log).toHaveLength(50)
    expect(log.filter((entry) => entry.type === 'success')).toHaveLength(30)
  })

  it('stores a frozen copy of a status record, so the caller mutating its object changes nothing', () => {
    const { storage } = setup()
    const record = { status: 'open' as const, openedAt: START, epoch: 1, updatedAt: START }
    storage.setStatus('c', record)
    record.epoch = 99
    expect(storage.getStatus('c')?.epoch).toBe(1)
    expect(Object.isFrozen(storage.getStatus('c'))).toBe(true)
  })

  it('delivers status changes synchronously, before setStatus returns', () => {
    const { storage } = setup()
    const seen: number[] = []
    storage.subscribe((change) => void (change.resync || seen.push(change.record.epoch)))
    storage.setStatus('c', { status: 'open', openedAt: START, epoch: 1, updatedAt: START })
    expect(seen).toEqual([1])
  })

  it('answers an empty event log for a limit of 0 or less', () => {
    const { storage } = setup()
    storage.recordFailure('c', 1)
    expect(storage.eventLog('c', 0)).toEqual([])
    expect(storage.eventLog('c', -5)).toEqual([])
  })

  it('reports a zero footprint for a circuit never written or cleared', () => {
    const { storage } = setup()
    storage.recordFailure('c', 1)
    expect(storage.footprint('c').outcomes).toBe(1)
    storage.clear('c')
    expect(storage.footprint('c')).toEqual({ outcomes: 0, logEntries: 0, bytes: 0 })
  })
})
