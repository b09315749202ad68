import { isConfigurationError, isThenable } from '@breaker/core'
import type { StatusRecord } from '@breaker/core'
import { describe, expect, it } from 'vitest'
import { BucketMemoryStorage } from '@breaker/storage-bucket'

const START = Date.UTC(2026, 0, 1) // a whole second

function setup(bucketCount?: number, start = START) {
  let now = start
  const storage = new BucketMemoryStorage(bucketCount === undefined ? { clock: () => now } : { clock: () => now, bucketCount })
  return {
    storage,
    advance: (ms: number) => void (now += ms),
    set: (at: number) => void (now = at),
  }
}

describe('BucketMemoryStorage options', () => {
  it.each([
    ['clock', { clock: 'now' }, 'clock must be a function answering epoch milliseconds, got "now"'],
    ['bucketCount', { bucketCount: 0 }, 'bucketCount must be an integer from 1 to 86400, got 0'],
    ['bucketCount', { bucketCount: 2.5 }, 'bucketCount must be an integer from 1 to 86400, got 2.5'],
    ['bucketCount', { bucketCount: 100_000 }, 'bucketCount must be an integer from 1 to 86400, got 100000'],
    ['bucketCount', { bucketCount: null }, 'bucketCount must be an integer from 1 to 86400, got null'],
  ])('rejects a bad %s with a ConfigurationError naming option and value', (option, options, message) => {
    let thrown: unknown
    try {
      new BucketMemoryStorage(options as never)
    } catch (error) {
      thrown = error
    }
    expect(isConfigurationError(thrown)).toBe(true)
    expect((thrown as { option: string }).option).toBe(option)
    expect((thrown as Error).message).toBe(`[@breaker/storage-bucket] ${message}`)
  })

  it('defaults to 300 one-second buckets: a 5 minute cap and 4 800 bytes of counters per circuit', () => {
    const storage = new BucketMemoryStorage()
    expect(storage.maxWindowMs).toBe(300_000)
    expect(storage.bytesPerCircuit).toBe(3_600)
    storage.recordFailure('c', 1)
    expect(storage.failureCount('c', 60_000)).toBe(1)
  })
})

describe('BucketMemoryStorage', () => {
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
      storage.clear('c'),
      storage.clearAll(),
    ]
    for (const answer of answers) expect(isThenable(answer as never)).toBe(false)
  })

  it('counts with one-second resolution, including the bucket the window starts in (never under-counting)', () => {
    const { storage, set } = setup()
    storage.recordFailure('c', 1) // second S
    set(START + 10_000)
    expect(storage.failureCount('c', 10_000)).toBe(1) // exactly windowMs old
    set(START + 10_999)
    expect(storage.failureCount('c', 10_000)).toBe(1) // up to a second older still counts
    set(START + 11_000)
    expect(storage.failureCount('c', 10_000)).toBe(0)
  })

  it('wraps around the ring: only the newest bucketCount seconds are ever counted', () => {
    const { storage, advance } = setup(10)
    for (let second = 0; second < 26; second++) {
      storage.recordFailure('c', 1)
      storage.recordSuccess('c', 1)
      storage.recordSuccess('c', 1)
      advance(1_000)
    }
    advance(-1_000) // back inside the last written second
    expect(storage.record('c', 'failure', 1, 10_000)).toEqual({ failures: 11, successes: 20 })
    expect(storage.failureCount('c', 5_000)).toBe(7) // seconds 20..25 (6 buckets), one extra failure now
  })

  it('resets a stale bucket when it is written again exactly one ring later', () => {
    const { storage, advance } = setup(10)
    storage.recordBatch('c', { failures: 3, successes: 2 }, 10_000)
    advance(10_000) // the same bucket index, ten seconds on
    expect(storage.record('c', 'failure', 1, 10_000)).toEqual({ failures: 1, successes: 0 })
    advance(30_000)
    expect(storage.record('c', 'success', 1, 10_000)).toEqual({ failures: 0, successes: 1 })
  })

  it('keeps a running sum right when a write resets a bucket that was inside the last sum', () => {
    const { storage, advance } = setup(5)
    storage.recordFailure('c', 1) // second S
    advance(4_000)
    expect(storage.failureCount('c', 60_000)).toBe(1) // sums seconds S..S+4, the whole ring
    advance(1_000)
    storage.recordSuccess('c', 1) // second S+5 reuses the bucket of second S
    expect(storage.failureCount('c', 60_000)).toBe(0)
    expect(storage.successCount('c', 60_000)).toBe(1)
  })

  it('caps a window longer than the ring at what the ring holds', () => {
    const { storage, advance } = setup(10)
    storage.recordFailure('c', 1)
    advance(9_000)
    storage.recordFailure('c', 1)
    expect(storage.failureCount('c', 3_600_000)).toBe(2)
    advance(1_000)
    expect(storage.failureCount('c', 3_600_000)).toBe(1)
  })

  it('never corrupts counts when the clock steps backwards, by less or by more than the ring', () => {
    const { storage, advance, set } = setup(10)
    storage.recordFailure('c', 1)
    advance(5_000)
    storage.recordFailure('c', 1)
    storage.recordFailure('c', 1)
    set(START + 2_000) // back 3 s
    storage.recordFailure('c', 1)
    expect(storage.failureCount('c', 10_000)).toBe(4)
    set(START - 3_600_000) // back an hour: its bucket index holds a newer second, which must survive
    storage.recordSuccess('c', 1)
    expect(storage.record('c', 'failure', 1, 10_000)).toEqual({ failures: 5, successes: 1 })
    // Back to real time: everything ages out normally and the ring keeps counting.
    set(START + 16_000)
    expect(storage.failureCount('c', 10_000)).toBe(0)
    storage.recordFailure('c', 1)
    expect(storage.record('c', 'success', 1, 10_000)).toEqual({ failures: 1, successes: 1 })
  })

  it('counts batches exactly in the current second', () => {
    const { storage } = setup()
    expect(storage.recordBatch('c', { failures: 100_000, successes: 7 }, 1_000)).toEqual({ failures: 100_000, successes: 7 })
    expect(storage.recordBatch('c', { failures: 0, successes: 0 }, 1_000)).toEqual({ failures: 100_000, successes: 7 })
  })

  it('works with a clock near or before the epoch', () => {
    const { storage, advance } = setup(5, -2_500)
    storage.recordFailure('c', 1)
    advance(1_000)
    storage.recordFailure('c', 1)
    advance(2_000)
    storage.recordFailure('c', 1)
    expect(storage.failureCount('c', 5_000)).toBe(3)
    advance(3_000)
    expect(storage.failureCount('c', 2_000)).toBe(0)
  })

  it('stores a frozen copy of a status record and tells listeners synchronously', () => {
    const { storage } = setup()
    const seen: number[] = []
    storage.subscribe((change) => void (change.resync || seen.push(change.record.epoch)))
    const record = { status: 'open' as const, openedAt: START, epoch: 1, updatedAt: START }
    storage.setStatus('c', record)
    record.epoch = 99
    expect(seen).toEqual([1])
    expect(storage.getStatus('c')?.epoch).toBe(1)
    expect(Object.isFrozen(storage.getStatus('c'))).toBe(true)
  })

  it('has no event log: durations are not kept', () => {
    const { storage } = setup()
    expect('eventLog' in storage).toBe(false)
  })

  it('counts outcomes of a clock at or before the epoch in second 0 instead of corrupting the ring', () => {
    const { storage, set } = setup(10, -5_000)
    storage.recordFailure('early', 0)
    set(0)
    storage.recordFailure('early', 0)
    expect(storage.failureCount('early', 60_000)).toBe(2)
    set(3_000)
    storage.recordSuccess('early', 0)
    expect(storage.record('early', 'failure', 0, 1_000)).toEqual({ failures: 1, successes: 1 })
  })
})
