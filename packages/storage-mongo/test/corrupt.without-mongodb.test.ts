import diagnostics from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { MONGO_CHANNELS, MongoStorage } from '@breaker/storage-mongo'
import type { CorruptDocumentReport } from '@breaker/storage-mongo'
import { FakeDb, serverError } from './fake-db.js'

const T = Date.UTC(2026, 0, 1, 12)
const GOOD = { status: 'closed', openedAt: null, epoch: 2, updatedAt: T }

function setup() {
  const db = new FakeDb()
  const reports: CorruptDocumentReport[] = []
  const storage = new MongoStorage({ db: db.asDb(), clock: () => T, onCorrupt: (report) => reports.push(report) })
  return { db, storage, reports }
}

const published: unknown[] = []
const onPublish = (message: unknown) => published.push(message)
diagnostics.subscribe(MONGO_CHANNELS.corrupt, onPublish)
afterEach(() => {
  published.length = 0
})

describe('corrupt documents (unit tests with a recording fake: these do not talk to MongoDB)', () => {
  it.each([
    [{ ...GOOD, status: 'ajar' }, 'status'],
    [{ ...GOOD, epoch: '2' }, 'epoch'],
    [{ ...GOOD, epoch: -1 }, 'epoch'],
    [{ ...GOOD, epoch: Number.NaN }, 'epoch'],
    [{ ...GOOD, updatedAt: null }, 'updatedAt'],
    [{ ...GOOD, openedAt: '2026-01-01' }, 'openedAt'],
    [{ status: 'open', epoch: 1, updatedAt: T }, 'openedAt'],
  ])('a status document %j is read as absent and reported (%s)', async (document, field) => {
    const { db, storage, reports } = setup()
    db.answer('breaker_status.findOne', { value: { _id: 'payments', v: 1, ...document } })
    expect(await storage.getStatus('payments')).toBeNull()
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatchObject({ storage: 'mongo', operation: 'getStatus', collection: 'breaker_status', circuit: 'payments' })
    expect(reports[0]!.reason).toContain(field)
    expect(published).toEqual(reports)
  })

  it('a well-formed status document is not reported', async () => {
    const { db, storage, reports } = setup()
    db.answer('breaker_status.findOne', { value: { _id: 'payments', v: 1, ...GOOD } })
    expect(await storage.getStatus('payments')).toEqual(GOOD)
    expect(reports).toHaveLength(0)
  })

  it('an onCorrupt callback that throws does not fail the read', async () => {
    const db = new FakeDb()
    const storage = new MongoStorage({
      db: db.asDb(),
      onCorrupt: () => {
        throw new Error('callback failure (expected by this test)')
      },
    })
    db.answer('breaker_status.findOne', { value: { _id: 'payments', status: 42 } })
    expect(await storage.getStatus('payments')).toBeNull()
  })

  it('buckets with unusable counters count as 0 and are looked up and reported', async () => {
    const { db, storage, reports } = setup()
    const bad = { circuit: 'payments', second: 1, failures: 'many', successes: 1 }
    db.answer('breaker_buckets.aggregate', { value: [{ _id: null, failures: 3, successes: 4, corrupt: 1 }] })
    db.answer('breaker_buckets.find', { value: [bad] })
    expect(await storage.failureCount('payments', 60_000)).toBe(3)
    expect(db.sent[1]!.method).toBe('find')
    expect(db.sent[1]!.args).toEqual([
      {
        circuit: 'payments',
        second: { $gt: Math.floor(T / 1000) - 60, $lte: Math.floor(T / 1000) },
        $nor: [
          {
            failures: { $type: ['int', 'long', 'double'], $gte: 0, $lt: Infinity },
            successes: { $type: ['int', 'long', 'double'], $gte: 0, $lt: Infinity },
            $expr: {
              $and: [
                { $cond: [{ $isNumber: '$failures' }, { $eq: ['$failures', { $trunc: ['$failures'] }] }, false] },
                { $cond: [{ $isNumber: '$successes' }, { $eq: ['$successes', { $trunc: ['$successes'] }] }, false] },
              ],
            },
          },
        ],
      },
      { limit: 10 },
    ])
    expect(reports).toEqual([expect.objectContaining({ operation: 'failureCount', collection: 'breaker_buckets', circuit: 'payments', document: bad })])
  })

  it('a bucket whose counter is not a number is zeroed, reported, and the write counted', async () => {
    const { db, storage, reports } = setup()
    const bad = { circuit: 'payments', second: Math.floor(T / 1000), failures: 'x', successes: 0 }
    db.answer('breaker_buckets.updateOne', { error: serverError(14, 'Cannot apply $inc to a value of non-numeric type') })
    db.answer('breaker_buckets.findOneAndUpdate', { value: bad })
    await storage.recordFailure('payments', 1)
    expect(db.sent.map((c) => c.method)).toEqual(['updateOne', 'findOneAndUpdate', 'updateOne'])
    expect(db.sent[1]!.args[1]).toEqual({ $set: { failures: 0, successes: 0 } })
    expect((db.sent[1]!.args[0] as Record<string, unknown>)['circuit']).toBe('payments')
    expect(db.sent[2]).toEqual(db.sent[0])
    expect(reports).toEqual([expect.objectContaining({ operation: 'recordFailure', document: bad })])
  })
})
