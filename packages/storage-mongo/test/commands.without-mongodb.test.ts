import { describe, expect, it } from 'vitest'
import { isStorageError, isStorageTimeoutError } from '@breaker/core'
import { BUCKET_KEY_INDEX, BUCKET_TTL_INDEX, MongoStorage } from '@breaker/storage-mongo'
import { FakeDb, serverError } from './fake-db.js'

const T = Date.UTC(2026, 0, 1, 12, 0, 0) + 500 // half a second into an epoch second
const SECOND = Math.floor(T / 1000)
const OK_STATUS = { status: 'open', openedAt: T, epoch: 3, updatedAt: T } as const

function setup(options: Record<string, unknown> = {}) {
  const db = new FakeDb()
  let now = T
  const storage = new MongoStorage({ db: db.asDb(), clock: () => now, ...options })
  return { db, storage, advance: (ms: number) => (now += ms) }
}

describe('MongoStorage commands (unit tests with a recording fake: these do not talk to MongoDB)', () => {
  it('uses <prefix>_status, <prefix>_buckets and <prefix>_leases, "breaker" by default', () => {
    expect(Object.values(setup().storage.collections).map((c) => c.collectionName)).toEqual([
      'breaker_status',
      'breaker_buckets',
      'breaker_leases',
    ])
    const { storage } = setup({ collectionPrefix: 'svc-a' })
    expect(storage.collections.buckets.collectionName).toBe('svc-a_buckets')
  })

  it('declares cluster scope, atomic counts, CAS and leases, and subscribe only with changeStreams', () => {
    expect(setup().storage.capabilities).toEqual({ scope: 'cluster', atomic: true, cas: true, leases: true, subscribe: false })
    expect(setup({ changeStreams: true }).storage.capabilities.subscribe).toBe(true)
  })

  it('ensureIndexes sends the unique {circuit, second} index and the TTL index, the same specs every time', async () => {
    const { db, storage } = setup({ retentionMs: 120_500 })
    await storage.ensureIndexes()
    await storage.ensureIndexes()
    const sent = db.commandsOn('breaker_buckets')
    expect(sent).toHaveLength(2)
    expect(sent[0]).toEqual(sent[1])
    expect(sent[0]!.method).toBe('createIndexes')
    expect(sent[0]!.args[0]).toEqual([
      { key: { circuit: 1, second: 1 }, name: BUCKET_KEY_INDEX, unique: true },
      { key: { touchedAt: 1 }, name: BUCKET_TTL_INDEX, expireAfterSeconds: 121 },
    ])
  })

  it('ensureIndexes applies a changed retention to the existing TTL index with collMod', async () => {
    const { db, storage } = setup({ retentionMs: 600_000 })
    db.answer('breaker_buckets.createIndexes', { error: serverError(85, 'Index already exists with different options') })
    await storage.ensureIndexes()
    expect(db.sent.map((c) => `${c.collection}.${c.method}`)).toEqual([
      'breaker_buckets.createIndexes',
      '$db.command',
      'breaker_buckets.createIndexes',
    ])
    expect(db.sent[1]!.args[0]).toEqual({ collMod: 'breaker_buckets', index: { name: BUCKET_TTL_INDEX, expireAfterSeconds: 600 } })
  })

  it('getStatus finds the status document by _id and answers only the record fields', async () => {
    const { db, storage } = setup()
    db.answer('breaker_status.findOne', { value: { _id: 'payments', v: 1, ...OK_STATUS, stray: true } })
    expect(await storage.getStatus('payments')).toEqual(OK_STATUS)
    expect(db.sent).toEqual([{ collection: 'breaker_status', method: 'findOne', args: [{ _id: 'payments' }] }])
  })

  it('setStatus replaces the whole status document with an upsert', async () => {
    const { db, storage } = setup()
    await storage.setStatus('payments', OK_STATUS)
    expect(db.sent).toEqual([
      {
        collection: 'breaker_status',
        method: 'replaceOne',
        args: [{ _id: 'payments' }, { v: 1, ...OK_STATUS }, { upsert: true }],
      },
    ])
  })

  it('setStatus and compareAndSetStatus write backoff and holds into the document, and leave them out when 0', async () => {
    const { db, storage } = setup()
    db.answer('breaker_status.replaceOne', { value: { matchedCount: 1, upsertedCount: 0 } })
    await storage.setStatus('payments', { ...OK_STATUS, backoff: 3, holds: 2 })
    await storage.compareAndSetStatus('payments', 3, { ...OK_STATUS, epoch: 4, backoff: 4 })
    await storage.setStatus('payments', { ...OK_STATUS, epoch: 5, backoff: 0, holds: 0 })
    expect(db.sent.map((call) => call.args[1])).toStrictEqual([
      { v: 1, ...OK_STATUS, backoff: 3, holds: 2 },
      { v: 1, ...OK_STATUS, epoch: 4, backoff: 4 },
      { v: 1, ...OK_STATUS, epoch: 5 },
    ])
  })

  it('getStatus answers backoff and holds from the document, and none from a document written before they existed', async () => {
    const { db, storage } = setup()
    db.answer('breaker_status.findOne', { value: { _id: 'payments', v: 1, ...OK_STATUS, backoff: 3, holds: 2 } }, { value: { _id: 'payments', v: 1, ...OK_STATUS } })
    expect(await storage.getStatus('payments')).toStrictEqual({ ...OK_STATUS, backoff: 3, holds: 2 })
    expect(await storage.getStatus('payments')).toStrictEqual(OK_STATUS)
  })

  it('setStatus refuses a record whose backoff or holds is not a whole number >= 0 before sending anything', async () => {
    const { db, storage } = setup()
    for (const bad of [{ backoff: -1 }, { holds: 1.5 }, { backoff: Number.NaN }]) {
      await expect(storage.setStatus('payments', { ...OK_STATUS, ...bad })).rejects.toSatisfy(isStorageError)
    }
    expect(db.sent).toHaveLength(0)
  })

  it('setStatus refuses a malformed record before sending anything', async () => {
    const { db, storage } = setup()
    const bad = { ...OK_STATUS, status: 'ajar' } as unknown as typeof OK_STATUS
    await expect(storage.setStatus('payments', bad)).rejects.toSatisfy(isStorageError)
    expect(db.sent).toHaveLength(0)
  })

  it('compareAndSetStatus from epoch 0 upserts where no readable document has a nonzero epoch', async () => {
    const { db, storage } = setup()
    db.answer('breaker_status.replaceOne', { value: { matchedCount: 0, upsertedCount: 1 } })
    expect(await storage.compareAndSetStatus('payments', 0, { ...OK_STATUS, epoch: 1 })).toBe(true)
    const [filter, replacement, options] = db.sent[0]!.args as [Record<string, unknown>, unknown, unknown]
    expect(filter._id).toBe('payments')
    const number = ['int', 'long', 'double']
    const whole = { $cond: [{ $isNumber: '$epoch' }, { $eq: ['$epoch', { $trunc: ['$epoch'] }] }, false] }
    expect(filter.$nor).toEqual([
      {
        status: { $in: ['closed', 'open', 'half_open'] },
        epoch: { $type: number, $gte: 0, $lte: Number.MAX_SAFE_INTEGER, $gt: 0 },
        updatedAt: { $type: number, $gte: 0, $lte: 8_640_000_000_000_000 },
        $or: [{ status: 'closed', openedAt: null }, { openedAt: { $type: number, $gte: 0, $lte: 8_640_000_000_000_000 } }],
        $and: ['backoff', 'holds'].map((field) => ({ $or: [{ [field]: null }, { [field]: { $type: number, $gte: 0, $lte: Number.MAX_SAFE_INTEGER } }] })),
        $expr: {
          $and: [
            whole,
            { $cond: [{ $isNumber: '$backoff' }, { $eq: ['$backoff', { $trunc: ['$backoff'] }] }, true] },
            { $cond: [{ $isNumber: '$holds' }, { $eq: ['$holds', { $trunc: ['$holds'] }] }, true] },
          ],
        },
      },
    ])
    expect(replacement).toEqual({ v: 1, ...OK_STATUS, epoch: 1 })
    expect(options).toEqual({ upsert: true })
  })

  it('compareAndSetStatus from epoch 0 answers false when its insert loses on the _id index', async () => {
    const { db, storage } = setup()
    db.answer('breaker_status.replaceOne', { error: serverError(11000, 'E11000 duplicate key error') })
    expect(await storage.compareAndSetStatus('payments', 0, { ...OK_STATUS, epoch: 1 })).toBe(false)
  })

  it('compareAndSetStatus from a later epoch pins that epoch and never upserts', async () => {
    const { db, storage } = setup()
    db.answer('breaker_status.replaceOne', { value: { matchedCount: 0, upsertedCount: 0 } }, { value: { matchedCount: 1, upsertedCount: 0 } })
    expect(await storage.compareAndSetStatus('payments', 3, { ...OK_STATUS, epoch: 4 })).toBe(false)
    expect(await storage.compareAndSetStatus('payments', 3, { ...OK_STATUS, epoch: 4 })).toBe(true)
    const [filter, , options] = db.sent[0]!.args as [Record<string, { $eq?: number }>, unknown, unknown]
    expect(filter['_id']).toBe('payments')
    expect(filter['epoch']!.$eq).toBe(3)
    expect(options).toEqual({ upsert: false })
  })

  it('recordFailure and recordSuccess $inc both counters of the current second with an upsert', async () => {
    const { db, storage } = setup()
    await storage.recordFailure('payments', 12)
    await storage.recordSuccess('payments', 3)
    expect(db.sent.map((c) => c.args)).toEqual([
      [{ circuit: 'payments', second: SECOND }, { $inc: { failures: 1, successes: 0 }, $currentDate: { touchedAt: true } }, { upsert: true }],
      [{ circuit: 'payments', second: SECOND }, { $inc: { failures: 0, successes: 1 }, $currentDate: { touchedAt: true } }, { upsert: true }],
    ])
  })

  it('counts sum the window with one range aggregation over the seconds it covers', async () => {
    const { db, storage } = setup()
    db.answer('breaker_buckets.aggregate', { value: [{ _id: null, failures: 4, successes: 9, corrupt: 0 }] })
    expect(await storage.failureCount('payments', 60_000)).toBe(4)
    expect(await storage.successCount('payments', 60_000)).toBe(0) // no canned row: no buckets
    const [pipeline] = db.sent[0]!.args as [Array<Record<string, unknown>>]
    expect(pipeline[0]).toEqual({ $match: { circuit: 'payments', second: { $gt: SECOND - 60, $lte: SECOND } } })
    expect(Object.keys(pipeline[1]!['$group'] as object)).toEqual(['_id', 'failures', 'successes', 'corrupt'])
  })

  it('a window shorter than a second still covers the current second', async () => {
    const { db, storage } = setup()
    await storage.failureCount('payments', 300)
    const [pipeline] = db.sent[0]!.args as [Array<Record<string, unknown>>]
    expect(pipeline[0]).toEqual({ $match: { circuit: 'payments', second: { $gt: SECOND - 1, $lte: SECOND } } })
  })

  it('record writes then counts with one clock reading; recordBatch sends one $inc for the whole batch', async () => {
    const { db, storage } = setup()
    db.answer('breaker_buckets.aggregate', { value: [{ _id: null, failures: 1, successes: 0, corrupt: 0 }] })
    expect(await storage.record('payments', 'failure', 5, 10_000)).toEqual({ failures: 1, successes: 0 })
    await storage.recordBatch('payments', { failures: 2, successes: 3 }, 10_000)
    await storage.recordBatch('payments', { failures: 0, successes: 0 }, 10_000)
    expect(db.sent.map((c) => c.method)).toEqual(['updateOne', 'aggregate', 'updateOne', 'aggregate', 'aggregate'])
    expect(db.sent[2]!.args[1]).toEqual({ $inc: { failures: 2, successes: 3 }, $currentDate: { touchedAt: true } })
  })

  it('acquireProbe sends one findOneAndUpdate pipeline with upsert and grants only if its id came back', async () => {
    const { db, storage } = setup()
    const echo = (args: readonly unknown[]) => {
      const literal = JSON.stringify(args[1]).match(/"id":"([^"]+)"/)![1]
      return { _id: 'payments', holders: [{ id: literal, expiresAt: T + 5_000 }] }
    }
    db.answer('breaker_leases.findOneAndUpdate', { compute: echo }, { value: { _id: 'payments', holders: [{ id: 'someone-else', expiresAt: T + 5_000 }] } })
    const lease = await storage.acquireProbe('payments', 1, 5_000)
    expect(lease).toMatchObject({ expiresAt: T + 5_000 })
    expect(await storage.acquireProbe('payments', 1, 5_000)).toBeNull()
    const [filter, pipeline, options] = db.sent[0]!.args as [unknown, Array<Record<string, unknown>>, unknown]
    expect(filter).toEqual({ _id: 'payments' })
    expect(options).toEqual({ upsert: true, returnDocument: 'after' })
    expect(JSON.stringify(pipeline)).toContain(`{"$literal":[{"id":"${lease!.id}","expiresAt":${T + 5_000}}]}`)
    await lease!.release()
    expect(db.sent.at(-1)).toEqual({
      collection: 'breaker_leases',
      method: 'updateOne',
      args: [{ _id: 'payments', holders: { $type: 'array' } }, { $pull: { holders: { id: lease!.id } } }],
    })
  })

  it('clear deletes by the name as a value; clearAll empties only its three collections', async () => {
    const { db, storage } = setup()
    await storage.clear('payments')
    await storage.clearAll()
    expect(db.sent.map((c) => [c.collection, c.method, c.args[0]])).toEqual([
      ['breaker_status', 'deleteOne', { _id: 'payments' }],
      ['breaker_buckets', 'deleteMany', { circuit: 'payments' }],
      ['breaker_leases', 'deleteOne', { _id: 'payments' }],
      ['breaker_status', 'deleteMany', {}],
      ['breaker_buckets', 'deleteMany', {}],
      ['breaker_leases', 'deleteMany', {}],
    ])
  })

  it('wraps driver failures as StorageError naming the operation and circuit, with the cause', async () => {
    const { db, storage } = setup()
    const cause = serverError(13, 'not authorized')
    db.answer('breaker_status.findOne', { error: cause })
    const error = await storage.getStatus('payments').catch((e: unknown) => e)
    expect(isStorageError(error)).toBe(true)
    expect(error).toMatchObject({ operation: 'getStatus', circuit: 'payments', storage: 'mongo', cause })
  })

  it("turns the driver's MongoOperationTimeoutError into a StorageTimeoutError", async () => {
    const { db, storage } = setup()
    const cause = Object.assign(new Error('Timed out'), { name: 'MongoOperationTimeoutError' })
    db.answer('breaker_buckets.updateOne', { error: cause })
    const error = await storage.recordFailure('payments', 1).catch((e: unknown) => e)
    expect(isStorageTimeoutError(error)).toBe(true)
    expect((error as Error).cause).toBe(cause)
  })

  it('retries a bucket upsert once when a concurrent writer created the bucket first', async () => {
    const { db, storage } = setup()
    db.answer('breaker_buckets.updateOne', { error: serverError(11000, 'E11000 duplicate key error') })
    await storage.recordFailure('payments', 1)
    expect(db.sent.map((c) => c.method)).toEqual(['updateOne', 'updateOne'])
    expect(db.sent[0]).toEqual(db.sent[1])
  })
})
