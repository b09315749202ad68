import diagnostics from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { isConfigurationError } from '@breaker/core'
import type { StorageNotice } from '@breaker/core'
import { MONGO_CHANNELS, MongoStorage, supportsChangeStreams } from '@breaker/storage-mongo'
import type { CorruptDocumentReport } from '@breaker/storage-mongo'
import { FakeDb } from './fake-db.js'

const RECORD = { status: 'open', openedAt: 5, epoch: 1, updatedAt: 5 } as const

describe('change streams (unit tests with a recording fake: these do not talk to MongoDB)', () => {
  it('subscribe is refused with a ConfigurationError when changeStreams is off', () => {
    const storage = new MongoStorage({ db: new FakeDb().asDb() })
    expect(() => storage.subscribe(() => {})).toThrow(expect.objectContaining({ option: 'changeStreams' }))
    try {
      storage.subscribe(() => {})
    } catch (error) {
      expect(isConfigurationError(error)).toBe(true)
    }
  })

  it('subscribe opens one change stream on the status collection for status writes, with updateLookup', () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true })
    storage.subscribe(() => {})
    storage.subscribe(() => {})
    expect(db.streams).toHaveLength(1)
    expect(db.sent).toEqual([
      {
        collection: 'breaker_status',
        method: 'watch',
        args: [[{ $match: { operationType: { $in: ['insert', 'replace', 'update', 'delete'] } } }], { fullDocument: 'updateLookup' }],
      },
    ])
  })

  it('delivers each change to every listener as { circuit, record } until it unsubscribes', () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true })
    const a: StorageNotice[] = []
    const b: StorageNotice[] = []
    const stopA = storage.subscribe((change) => a.push(change))
    storage.subscribe(() => {
      throw new Error('listener failure (expected by this test)')
    })
    storage.subscribe((change) => b.push(change))
    const stream = db.streams[0]!
    stream.emit('change', { operationType: 'replace', documentKey: { _id: 'payments' }, fullDocument: { _id: 'payments', v: 1, ...RECORD } })
    stopA()
    stream.emit('change', { operationType: 'insert', documentKey: { _id: 'x.y' }, fullDocument: { _id: 'x.y', v: 1, ...RECORD, epoch: 2 } })
    expect(a).toEqual([{ circuit: 'payments', record: RECORD }])
    expect(b).toEqual([
      { circuit: 'payments', record: RECORD },
      { circuit: 'x.y', record: { ...RECORD, epoch: 2 } },
    ])
  })

  it('a deleted status document (a clear elsewhere) is delivered as { resync: true, circuit }', () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true })
    const seen: StorageNotice[] = []
    storage.subscribe((change) => seen.push(change))
    db.streams[0]!.emit('change', { operationType: 'delete', documentKey: { _id: 'payments' } })
    db.streams[0]!.emit('change', { operationType: 'delete', documentKey: { _id: 42 } })
    expect(seen).toEqual([{ resync: true, circuit: 'payments' }])
  })

  it('clear and clearAll tell this instance\'s subscribers at once, without waiting for the stream', async () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true })
    const seen: StorageNotice[] = []
    storage.subscribe((change) => seen.push(change))
    await storage.clear('payments')
    await storage.clearAll()
    expect(seen).toEqual([{ resync: true, circuit: 'payments' }, { resync: true }])
  })

  it('a corrupt document in a change event is reported and not delivered', () => {
    const db = new FakeDb()
    const reports: CorruptDocumentReport[] = []
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true, onCorrupt: (r) => reports.push(r) })
    const seen: StorageNotice[] = []
    storage.subscribe((change) => seen.push(change))
    db.streams[0]!.emit('change', { operationType: 'update', documentKey: { _id: 'payments' }, fullDocument: { _id: 'payments', status: 'ajar' } })
    db.streams[0]!.emit('change', { operationType: 'update', documentKey: { _id: 'gone' }, fullDocument: null })
    expect(seen).toEqual([])
    expect(reports).toEqual([expect.objectContaining({ operation: 'subscribe', circuit: 'payments' })])
  })

  it('a failed stream is reported on its channel, subscribers hear a resync, and the next subscribe opens a fresh one', () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true })
    const errors: unknown[] = []
    const onError = (message: unknown) => errors.push(message)
    diagnostics.subscribe(MONGO_CHANNELS.changeStreamError, onError)
    const seen: StorageNotice[] = []
    try {
      storage.subscribe((notice) => seen.push(notice))
      const failure = new Error('not resumable')
      db.streams[0]!.emit('error', failure)
      expect(errors).toEqual([{ storage: 'mongo', collection: 'breaker_status', error: failure }])
      // Pushes may be missed until a fresh stream opens: every circuit re-reads.
      expect(seen).toEqual([{ resync: true }])
      storage.subscribe(() => {})
      expect(db.streams).toHaveLength(2)
    } finally {
      diagnostics.unsubscribe(MONGO_CHANNELS.changeStreamError, onError)
    }
  })

  it('close() closes the stream it opened', async () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true })
    storage.subscribe(() => {})
    await storage.close()
    expect(db.streams[0]!.closed).toBe(true)
  })

  it('startChangeStream rejects, instead of hanging, when close() comes before the server opened the stream', async () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb(), changeStreams: true })
    const started = storage.startChangeStream()
    await storage.close()
    await expect(started).rejects.toThrow(/closed before it opened/)
  })

  it("create({ changeStreams: 'detect' }) asks hello once, creates indexes and waits for the stream to open", async () => {
    const db = new FakeDb()
    db.answer('$db.command', { value: { isWritablePrimary: true, setName: 'rs0' } })
    const created = MongoStorage.create({ db: db.asDb(), changeStreams: 'detect' })
    await new Promise((resolve) => setImmediate(resolve))
    expect(db.sent.map((c) => `${c.collection}.${c.method}`)).toEqual(['$db.command', 'breaker_buckets.createIndexes', 'breaker_status.watch'])
    expect(db.sent[0]!.args[0]).toEqual({ hello: 1 })
    let settled = false
    void created.then(() => (settled = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false) // the server has not confirmed the cursor yet
    db.streams[0]!.emit('resumeTokenChanged', { _data: 'token' })
    const storage = await created
    expect(storage.capabilities.subscribe).toBe(true)
  })

  it("supportsChangeStreams answers false for a standalone server and true for mongos", async () => {
    const standalone = new FakeDb().answer('$db.command', { value: { isWritablePrimary: true } })
    const mongos = new FakeDb().answer('$db.command', { value: { isWritablePrimary: true, msg: 'isdbgrid' } })
    expect(await supportsChangeStreams(standalone.asDb())).toBe(false)
    expect(await supportsChangeStreams(mongos.asDb())).toBe(true)
  })
})
