import { afterEach, describe, expect, it } from 'vitest'
import { isStorageTimeoutError } from '@breaker/core'
import { loadAddon } from '../src/load.js'
import { destroyAll, freshPath, freshStorage } from './helpers.js'
import { killWorkers, runAll, startWorkers } from './workers.js'

afterEach(async () => {
  await killWorkers()
  destroyAll()
})

const WRITE_LOCK = 1
const STRUCTURE_LOCK = 0
const open = (epoch: number) => ({ status: 'open' as const, openedAt: Date.now(), epoch, updatedAt: Date.now() })

async function waitFor(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a pushed status change')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

describe('processes sharing one segment', () => {
  it('4 processes × 2 000 recordFailure calls count exactly 8 000', async () => {
    const path = freshPath()
    const storage = freshStorage({ path })
    const workers = await startWorkers(4, () => ({ path, action: 'record', circuit: 'payments', count: 2_000, barrier: 'start', parties: 4 }))
    const results = await runAll(workers)
    expect(storage.failureCount('payments', 60_000)).toBe(8_000)
    // Each process saw at least its own writes when it finished.
    for (const seen of results) expect(seen as number).toBeGreaterThanOrEqual(2_000)
  })

  it('4 processes × 50 000 record calls, started together, lose and double nothing', async () => {
    const path = freshPath()
    const storage = freshStorage({ path })
    const workers = await startWorkers(4, () => ({
      path,
      action: 'record',
      viaRecord: true,
      circuit: 'search',
      count: 50_000,
      barrier: 'start',
      parties: 4,
    }))
    await runAll(workers)
    expect(storage.failureCount('search', 60_000)).toBe(200_000)
  })

  it('of 4 processes racing compareAndSetStatus from epoch 0, exactly one wins', async () => {
    const path = freshPath()
    const storage = freshStorage({ path })
    const workers = await startWorkers(4, () => ({ path, action: 'cas', circuit: 'orders', barrier: 'start', parties: 4 }))
    const results = await runAll(workers)
    expect(results.filter((won) => won === true)).toHaveLength(1)
    expect(storage.getStatus('orders')?.epoch).toBe(1)
  })

  it('a process killed while holding the write lock does not block the next status write', async () => {
    const path = freshPath()
    const storage = freshStorage({ path, lockTimeoutMs: 50 })
    const [holder] = await startWorkers(1, () => ({ path, action: 'hold', lock: WRITE_LOCK }))
    holder!.go()
    await holder!.next('holding')
    // While it lives, the lock is really held: a writer gives up at its deadline.
    expect(isStorageTimeoutError(thrown(() => storage.setStatus('inventory', open(1))))).toBe(true)
    await holder!.kill()
    const record = open(2)
    storage.setStatus('inventory', record)
    expect(storage.getStatus('inventory')).toEqual(record)
    expect(storage.compareAndSetStatus('inventory', 2, open(3))).toBe(true)
  })

  it('a process killed while holding the structure lock does not block the next new circuit', async () => {
    const path = freshPath()
    const storage = freshStorage({ path, lockTimeoutMs: 50 })
    const [holder] = await startWorkers(1, () => ({ path, action: 'hold', lock: STRUCTURE_LOCK }))
    holder!.go()
    await holder!.next('holding')
    expect(isStorageTimeoutError(thrown(() => storage.recordFailure('brand-new', 1)))).toBe(true)
    await holder!.kill()
    storage.recordFailure('brand-new', 1)
    expect(storage.failureCount('brand-new', 60_000)).toBe(1)
  })

  it('writers killed with SIGKILL mid-write leave both locks free and every counter usable', async () => {
    const path = freshPath()
    const storage = freshStorage({ path, lockTimeoutMs: 50 })
    const workers = await startWorkers(2, (index) => ({ path, action: 'hammer', circuit: `busy-${index}` }))
    for (const worker of workers) worker.go()
    await Promise.all(workers.map((worker) => worker.next('hammering')))
    await Promise.all(workers.map((worker) => worker.kill()))

    const { semid } = storage.info()
    expect(loadAddon().semValue(semid, WRITE_LOCK)).toBe(0)
    expect(loadAddon().semValue(semid, STRUCTURE_LOCK)).toBe(0)
    const before = storage.failureCount('busy-0', 60_000)
    expect(before).toBeGreaterThanOrEqual(500)
    storage.recordFailure('busy-0', 1)
    expect(storage.failureCount('busy-0', 60_000)).toBe(before + 1)
    const epoch = storage.getStatus('busy-1')!.epoch
    expect(storage.compareAndSetStatus('busy-1', epoch, open(epoch + 1))).toBe(true)
    expect(storage.acquireProbe('busy-0', 8, 1_000)).not.toBeNull()
    storage.recordSuccess('a-circuit-nobody-wrote', 1)
    expect(storage.successCount('a-circuit-nobody-wrote', 60_000)).toBe(1)
  })

  it('a subscriber is told of status writes made by another process', async () => {
    const path = freshPath()
    const storage = freshStorage({ path, watchIntervalMs: 2 })
    const changes: { circuit: string; epoch: number }[] = []
    const stop = storage.subscribe((notice) => void (notice.resync || changes.push({ circuit: notice.circuit, epoch: notice.record.epoch })))
    try {
      await runAll(await startWorkers(1, () => ({ path, action: 'set-status', circuit: 'remote', epochs: 3 })))
      await waitFor(() => changes.some((change) => change.epoch === 3))
      // Writes between two looks arrive as the newest one; nothing arrives twice or out of order.
      expect(changes.every((change) => change.circuit === 'remote')).toBe(true)
      expect(changes.map((change) => change.epoch)).toEqual([...new Set(changes.map((change) => change.epoch))].sort())
    } finally {
      stop()
    }
  })

  it('what one process wrote is there for the next after it exits', async () => {
    const path = freshPath()
    const storage = freshStorage({ path })
    await runAll(await startWorkers(1, () => ({ path, action: 'record', circuit: 'kept', count: 7, barrier: 'one', parties: 1 })))
    await runAll(await startWorkers(1, () => ({ path, action: 'record', circuit: 'kept', count: 5, barrier: 'two', parties: 1 })))
    expect(storage.failureCount('kept', 60_000)).toBe(12)
  })
})
