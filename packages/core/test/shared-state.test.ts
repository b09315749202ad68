import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Circuit, isCircuitOpenError } from '../src/index.js'
import type { CircuitOptions } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { MapStorage } from './support/map-storage.js'
import type { MapStorageOptions } from './support/map-storage.js'
import { fail, ok, rejection, uniqueName } from './support/fixtures.js'

/** N circuits of one name on one storage: N instances of a service. */
function instances(count: number, options: CircuitOptions = {}, storageOptions: Partial<MapStorageOptions> = {}) {
  const clock = manualClock()
  const storage = new MapStorage({ clock, ...storageOptions })
  const name = uniqueName('shared')
  const opened: number[] = []
  const circuits = Array.from(
    { length: count },
    (_, i) =>
      new Circuit(name, {
        storage,
        clock,
        registry: false,
        jitter: 0,
        ...options,
        on: { ...options.on, open: () => void opened.push(i) },
      }),
  )
  return { clock, storage, circuits, opened }
}

describe('several instances on one storage', () => {
  // Only performance.now() is faked: the status cache's clock. Promises and timers stay real.
  beforeEach(() => void vi.useFakeTimers({ toFake: ['performance'] }))
  afterEach(() => void vi.useRealTimers())

  it('trips every instance when failures add up across them', async () => {
    const { circuits } = instances(3, { threshold: { failures: 3, within: 10_000 } })
    for (const c of circuits) await rejection(c.call(fail()))
    for (const c of circuits) expect(isCircuitOpenError(await rejection(c.call(ok(1))))).toBe(true)
  })

  it('fires open in exactly one instance when many race to open (compare-and-set)', async () => {
    const { circuits, opened, storage } = instances(8, { threshold: { failures: 1, within: 10_000 } }, { async: true })
    await Promise.all(circuits.map((c) => rejection(c.call(fail()))))
    expect(opened).toHaveLength(1)
    expect(storage.statuses.get(circuits[0]!.name)?.epoch).toBe(1)
    expect(circuits.map((c) => c.state)).toEqual(Array(8).fill('open'))
  })

  it('drops outcomes of calls admitted under an older epoch', async () => {
    const { circuits, storage } = instances(2, { threshold: { failures: 1, within: 10_000 } })
    const [a, b] = circuits as [Circuit, Circuit]
    let finishSlow!: (e: Error) => void
    const slow = a.call(() => new Promise((_, reject) => (finishSlow = reject)))
    await rejection(b.call(fail())) // b opens the circuit (epoch 1)
    await a.forceClose() // and a closes it again (epoch 2)
    finishSlow(new Error('late failure from epoch 0'))
    await rejection(slow)
    expect(a.state).toBe('closed')
    expect(storage.events.get(a.name)?.length).toBe(1) // only b's failure was written
  })

  it('trusts a cached status for stateCacheTtl, then reads storage again', async () => {
    const { circuits, storage, clock } = instances(2, { threshold: { failures: 1, within: 10_000 }, stateCacheTtl: 1000 })
    const [a, b] = circuits as [Circuit, Circuit]
    await a.call(ok(1))
    const reads = () => storage.calls.filter((c) => c === 'getStatus').length
    const before = reads()
    await rejection(b.call(fail())) // b opens it; a still trusts its copy
    await expect(a.call(ok('stale but allowed'))).resolves.toBe('stale but allowed')
    expect(reads()).toBe(before + 1) // only b read
    vi.advanceTimersByTime(1000) // the cache runs on the monotonic clock, not on `clock`
    expect(isCircuitOpenError(await rejection(a.call(ok(2))))).toBe(true)
  })

  it('measures stateCacheTtl on the monotonic clock: a wall clock stepping back an hour does not stretch it', async () => {
    const { circuits, clock } = instances(2, { threshold: { failures: 1, within: 10_000 }, stateCacheTtl: 1000 })
    const [a, b] = circuits as [Circuit, Circuit]
    await a.call(ok(1))
    clock.advance(-3_600_000)
    await rejection(b.call(fail()))
    vi.advanceTimersByTime(1000)
    expect(isCircuitOpenError(await rejection(a.call(ok(2))))).toBe(true)
  })

  it('learns a transition at once from a storage that pushes, despite a long cache', async () => {
    const { circuits } = instances(2, { threshold: { failures: 1, within: 10_000 }, stateCacheTtl: 60_000 }, { subscribe: true })
    const [a, b] = circuits as [Circuit, Circuit]
    await a.call(ok(1))
    await rejection(b.call(fail()))
    expect(a.state).toBe('open')
    expect(isCircuitOpenError(await rejection(a.call(ok(2))))).toBe(true)
  })

  it('re-reads storage at once after a resync notice, so a trip pushed into a gap is seen', async () => {
    const { circuits, storage } = instances(2, { threshold: { failures: 1, within: 10_000 }, stateCacheTtl: 60_000 }, { subscribe: true })
    const [a, b] = circuits as [Circuit, Circuit]
    await a.call(ok(1))
    storage.mutePushes = true // a's subscriber is reconnecting: b's trip is never pushed to it
    await rejection(b.call(fail()))
    await expect(a.call(ok('stale'))).resolves.toBe('stale')
    storage.mutePushes = false
    storage.resync() // the reconnected subscriber says it may have missed messages
    expect(isCircuitOpenError(await rejection(a.call(ok(2))))).toBe(true)
  })

  it('hands out at most halfOpenCalls probes across instances when the storage has leases', async () => {
    const { circuits, clock } = instances(3, { threshold: { failures: 1, within: 10_000 }, resetAfter: 1000 }, { leases: true })
    await rejection(circuits[0]!.call(fail()))
    clock.advance(1000)
    let release!: () => void
    const probe = circuits[0]!.call(() => new Promise<string>((r) => (release = () => r('probe ok'))))
    await Promise.resolve()
    for (const other of circuits.slice(1)) {
      expect((await rejection(other.call(ok(1)))).reason).toBe('half_open_full')
    }
    release()
    await expect(probe).resolves.toBe('probe ok')
    expect(circuits[1]!.state).toBe('half_open') // cached; the next call reads closed
    await expect(circuits[1]!.call(ok('closed now'))).resolves.toBe('closed now')
  })

  it('lets a lapsed lease go, so a crashed prober cannot wedge the circuit', async () => {
    const { circuits, clock } = instances(2, { threshold: { failures: 1, within: 10_000 }, resetAfter: 1000, timeout: 50_000 }, { leases: true })
    await rejection(circuits[0]!.call(fail()))
    clock.advance(1000)
    void circuits[0]!.call(() => new Promise(() => {})).catch(() => {}) // never settles (until its timeout)
    await Promise.resolve()
    expect((await rejection(circuits[1]!.call(ok(1)))).reason).toBe('half_open_full')
    clock.advance(50_000) // the lease TTL is the timeout
    await expect(circuits[1]!.call(ok('after lapse'))).resolves.toBe('after lapse')
  })

  it('syncState applies a transition from elsewhere without firing hooks', async () => {
    const { circuits, opened, storage } = instances(1, { threshold: { failures: 1, within: 10_000 } })
    const [a] = circuits as [Circuit]
    a.syncState('open')
    expect(a.state).toBe('open')
    expect(opened).toEqual([])
    expect(storage.statuses.get(a.name)?.status).toBe('open') // process-local storage is this instance's copy
    expect(isCircuitOpenError(await rejection(a.call(ok(1))))).toBe(true)
  })

  it('syncState ignores a record older than the one it knows', () => {
    const { circuits } = instances(1)
    const [a] = circuits as [Circuit]
    a.syncState({ status: 'open', epoch: 5, openedAt: 1, updatedAt: 1 })
    a.syncState({ status: 'closed', epoch: 4, openedAt: null, updatedAt: 2 })
    expect(a.state).toBe('open')
  })
})
