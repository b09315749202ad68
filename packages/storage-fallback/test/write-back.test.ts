import { describe, expect, it } from 'vitest'
import { NullStorage, isStorageError } from '@breaker/core'
import type { StatusRecord } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { GatedStorage, manualClock } from './fixtures/faulty.js'
import { MapStorage } from './fixtures/map-storage.js'

const rec = (status: StatusRecord['status'], epoch: number, at: number): StatusRecord => ({
  status,
  openedAt: status === 'closed' ? null : at,
  epoch,
  updatedAt: at,
})

/** A MapStorage that throws while `down`. */
class Switchable extends MapStorage {
  down = false
  constructor(clock: () => number, name: string) {
    super(clock, name)
    for (const method of ['getStatus', 'setStatus', 'compareAndSetStatus', 'recordFailure', 'recordSuccess', 'failureCount', 'successCount', 'record', 'recordBatch', 'clear', 'clearAll'] as const) {
      const inner = (this[method] as (...args: unknown[]) => unknown).bind(this)
      ;(this as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        if (this.down) throw new Error(`${name} is down`)
        return inner(...args)
      }
    }
  }
}

function setup(options: { maxWriteBack?: number } = {}) {
  const time = manualClock()
  const redis = new Switchable(time.clock, 'redis')
  const memory = new MapStorage(time.clock, 'memory')
  const chain = new FallbackChainStorage(
    [
      { storage: redis, timeout: 5 },
      { storage: memory, timeout: 2 },
      { storage: new NullStorage(), timeout: 1 },
    ],
    { clock: time.clock, unhealthyAfter: 1, unhealthyFor: 1000, ...options },
  )
  return { ...time, redis, memory, chain }
}

describe('write-back', () => {
  it('writes a trip and the failures counted during an outage back to the primary once it answers again', async () => {
    const { clock, advance, redis, memory, chain } = setup()
    redis.down = true
    chain.record('pay', 'failure', 1, 60_000)
    chain.record('pay', 'failure', 1, 60_000)
    chain.record('pay', 'success', 1, 60_000)
    chain.compareAndSetStatus!('pay', 0, rec('open', 1, clock()))
    expect(memory.getStatus('pay')).toEqual(rec('open', 1, clock()))
    expect(chain.health()[0]!.owedWriteBacks).toBe(1)
    advance(1000)
    redis.down = false
    chain.getStatus('unrelated')
    await chain.close()
    expect(redis.getStatus('pay')).toEqual(rec('open', 1, Date.UTC(2026, 0, 1)))
    expect(redis.failureCount('pay', 60_000)).toBe(2)
    expect(redis.successCount('pay', 60_000)).toBe(1)
    expect(chain.health()[0]!.owedWriteBacks).toBe(0)
  })

  it('writes a circuit back before the primary serves it again, so it never answers from state it missed', () => {
    const { clock, advance, redis, chain } = setup()
    redis.down = true
    chain.setStatus('pay', rec('open', 1, clock()))
    chain.recordFailure('pay', 1)
    advance(1000)
    redis.down = false
    expect(chain.getStatus('pay')).toEqual(rec('open', 1, Date.UTC(2026, 0, 1)))
    expect(chain.failureCount('pay', 60_000)).toBe(1)
    expect(redis.failureCount('pay', 60_000)).toBe(1)
  })

  it('does not forget a trip when the primary already had history with a higher epoch from before the outage', () => {
    const { clock, advance, redis, chain } = setup()
    const start = clock()
    redis.setStatus('pay', rec('closed', 4, start))
    redis.down = true
    advance(10)
    chain.setStatus('pay', rec('open', 1, clock()))
    advance(1000)
    redis.down = false
    expect(chain.getStatus('pay')).toEqual(rec('open', 5, start + 10))
  })

  it('keeps what the primary holds when it is newer than what was learned below', () => {
    const { clock, advance, redis, chain } = setup()
    redis.down = true
    chain.setStatus('pay', rec('open', 1, clock()))
    advance(500)
    redis.down = false
    // Another instance, still talking to the primary, moved the circuit on meanwhile.
    redis.setStatus('pay', rec('half_open', 2, clock()))
    advance(500)
    expect(chain.getStatus('pay')).toEqual(rec('half_open', 2, Date.UTC(2026, 0, 1) + 500))
  })

  it('keeps the newest status when several were written below', async () => {
    const { clock, advance, redis, chain } = setup()
    redis.down = true
    chain.setStatus('pay', rec('open', 1, clock()))
    advance(5)
    chain.setStatus('pay', rec('half_open', 2, clock()))
    advance(5)
    chain.setStatus('pay', rec('closed', 3, clock()))
    advance(1000)
    redis.down = false
    await chain.writeBack()
    expect(redis.getStatus('pay')).toEqual(rec('closed', 3, Date.UTC(2026, 0, 1) + 10))
  })

  it('clears on the primary what was cleared while it was away', () => {
    const { clock, advance, redis, memory, chain } = setup()
    redis.setStatus('pay', rec('open', 1, clock()))
    redis.recordFailure('pay', 1)
    redis.setStatus('other', rec('open', 1, clock()))
    redis.down = true
    chain.clear('pay')
    advance(1000)
    redis.down = false
    expect(chain.getStatus('pay')).toBeNull()
    expect(redis.failureCount('pay', 60_000)).toBe(0)
    expect(redis.getStatus('other')).not.toBeNull()
    expect(memory.getStatus('pay')).toBeNull()
  })

  it('drops a missed clear when another instance wrote the circuit on the primary after it', () => {
    const { clock, advance, redis, chain } = setup()
    redis.down = true
    chain.clear('pay')
    advance(100)
    redis.down = false
    redis.setStatus('pay', rec('open', 3, clock()))
    advance(1000)
    expect(chain.getStatus('pay')).toEqual(rec('open', 3, Date.UTC(2026, 0, 1) + 100))
  })

  it('runs a missed clearAll on the primary before it serves anything again', () => {
    const { clock, advance, redis, chain } = setup()
    redis.setStatus('pay', rec('open', 1, clock()))
    redis.down = true
    chain.clearAll()
    chain.setStatus('fresh', rec('open', 1, clock()))
    advance(1000)
    redis.down = false
    expect(chain.getStatus('pay')).toBeNull()
    expect(chain.getStatus('fresh')).toEqual(rec('open', 1, Date.UTC(2026, 0, 1)))
  })

  it('remembers a bounded number of circuits per backend, dropping the oldest', () => {
    const { clock, redis, chain } = setup({ maxWriteBack: 2 })
    redis.down = true
    chain.setStatus('a', rec('open', 1, clock()))
    chain.setStatus('b', rec('open', 1, clock()))
    chain.setStatus('c', rec('open', 1, clock()))
    expect(chain.health()[0]).toMatchObject({ owedWriteBacks: 2, droppedWriteBacks: 1 })
  })

  it('writes back what the last backend took even when it is a NullStorage that keeps nothing', async () => {
    const time = manualClock()
    const redis = new Switchable(time.clock, 'redis')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: new NullStorage(), timeout: 1 }], {
      clock: time.clock,
      unhealthyAfter: 1,
    })
    redis.down = true
    chain.setStatus('pay', rec('open', 1, time.clock()))
    chain.recordFailure('pay', 1)
    redis.down = false
    time.advance(30_000)
    await chain.writeBack()
    expect(redis.getStatus('pay')).toEqual(rec('open', 1, Date.UTC(2026, 0, 1)))
    expect(redis.failureCount('pay', 60_000)).toBe(1)
  })

  it('does not count twice a write that was abandoned at its deadline and landed late', async () => {
    const time = manualClock()
    const redis = new GatedStorage(time.clock, 'redis')
    const memory = new MapStorage(time.clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 100 }, { storage: memory, timeout: 2 }], { clock: time.clock })
    await chain.recordFailure('pay', 1)
    expect(memory.failureCount('pay', 60_000)).toBe(1)
    redis.release()
    await new Promise((resolve) => setImmediate(resolve))
    redis.gated = false
    expect(redis.failureCount('pay', 60_000)).toBe(1)
    await chain.writeBack()
    expect(redis.failureCount('pay', 60_000)).toBe(1)
  })

  it('does not send owed counts to a backend that is still failing, where an abandoned write may yet land', async () => {
    const time = manualClock()
    const redis = new GatedStorage(time.clock, 'redis')
    const memory = new MapStorage(time.clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 100 }, { storage: memory, timeout: 2 }], { clock: time.clock })
    for (let i = 0; i < 3; i++) await chain.recordFailure('pay', 1)
    expect(redis.held).toHaveLength(3)
    redis.release()
    await new Promise((resolve) => setImmediate(resolve))
    redis.gated = false
    time.advance(30_000)
    expect(chain.failureCount('pay', 60_000)).toBe(3)
    await chain.writeBack()
    expect(redis.failureCount('pay', 60_000)).toBe(3)
    expect(memory.failureCount('pay', 60_000)).toBe(3)
  })

  it('answers the first read after an outage with the counts still owed, before they are written back', async () => {
    const { advance, redis, chain } = setup()
    redis.down = true
    chain.recordFailure('pay', 1)
    chain.recordFailure('pay', 1)
    advance(1000)
    redis.down = false
    expect(chain.failureCount('pay', 60_000)).toBe(2)
    expect(redis.failureCount('pay', 60_000)).toBe(0)
    await chain.close()
    expect(redis.failureCount('pay', 60_000)).toBe(2)
    expect(chain.failureCount('pay', 60_000)).toBe(2)
  })

  it('keeps what it could not write back, and writeBack() says why', async () => {
    const { clock, advance, redis, chain } = setup()
    redis.down = true
    chain.setStatus('pay', rec('open', 1, clock()))
    advance(1000)
    // Back for one answer, then gone again before the write-back runs.
    redis.down = false
    chain.getStatus('unrelated')
    redis.down = true
    await chain.close()
    expect(chain.health()[0]).toMatchObject({ healthy: false, owedWriteBacks: 1 })
    advance(1000)
    const error = await chain.writeBack().catch((e: unknown) => e)
    expect(isStorageError(error)).toBe(true)
    expect(chain.health()[0]!.owedWriteBacks).toBe(1)
    advance(1000)
    redis.down = false
    await chain.writeBack()
    expect(redis.getStatus('pay')).toEqual(rec('open', 1, Date.UTC(2026, 0, 1)))
  })
})
