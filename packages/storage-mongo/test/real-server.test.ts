import { afterAll, describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { BUCKET_KEY_INDEX, BUCKET_TTL_INDEX, MongoStorage } from '@breaker/storage-mongo'
import type { CorruptDocumentReport } from '@breaker/storage-mongo'
import type { Clock } from '@breaker/core'
import { FakeDb } from './fake-db.js'
import { SKIP_REASON, connectIfConfigured, freshPrefix } from './server.js'

// Started before the suite registers its tests: the conformance suite calls the factory while
// collecting (to read capabilities), so the connection must exist by then.
const server = await connectIfConfigured('real-server.test.ts', 'conformance')
const TITLE = server ? 'MongoStorage against a real server at MONGO_URL' : `MongoStorage against a real server — ${SKIP_REASON}`

afterAll(async () => {
  await server?.db.dropDatabase()
  await server?.client.close()
})

/** A storage on fresh collections; `'detect'` runs the subscribe checks on a replica set. */
async function fresh(clock: Clock, onCorrupt?: (report: CorruptDocumentReport) => void): Promise<MongoStorage> {
  if (server === undefined) {
    // Only reached while the skipped suite is collected: capabilities are read, nothing is sent.
    return new MongoStorage({ db: new FakeDb().asDb(), clock })
  }
  return MongoStorage.create({ db: server.db, clock, collectionPrefix: freshPrefix(), changeStreams: 'detect', ...(onCorrupt ? { onCorrupt } : {}) })
}

async function dispose(storage: MongoStorage): Promise<void> {
  await storage.close()
  if (server !== undefined) await Promise.all(Object.values(storage.collections).map((c) => c.drop().catch(() => false)))
}

describe.skipIf(server === undefined)(TITLE, () => {
  storageConformance({ describe, it, expect }, ({ clock }) => fresh(clock), {
    name: 'mongo',
    granularityMs: 1000,
    teardown: dispose,
  })

  describe('MongoDB specifics', () => {
    const T = Date.UTC(2026, 0, 1)

    it('ensureIndexes is safe to repeat and leaves the unique key index and the TTL index', async () => {
      const storage = await fresh(() => T)
      try {
        await storage.ensureIndexes()
        await storage.ensureIndexes()
        const indexes = await storage.collections.buckets.listIndexes().toArray()
        const byName = Object.fromEntries(indexes.map((index) => [index['name'], index]))
        expect(byName[BUCKET_KEY_INDEX]).toMatchObject({ key: { circuit: 1, second: 1 }, unique: true })
        expect(byName[BUCKET_TTL_INDEX]).toMatchObject({ key: { touchedAt: 1 }, expireAfterSeconds: 3600 })
      } finally {
        await dispose(storage)
      }
    })

    it('a changed retention is applied to the existing TTL index', async () => {
      const storage = await fresh(() => T)
      try {
        const longer = new MongoStorage({ collections: storage.collections, retentionMs: 7_200_000 })
        await longer.ensureIndexes()
        const ttl = (await storage.collections.buckets.listIndexes().toArray()).find((index) => index['name'] === BUCKET_TTL_INDEX)
        expect(ttl?.['expireAfterSeconds']).toBe(7200)
      } finally {
        await dispose(storage)
      }
    })

    it('names that look like operators or paths are stored and found as plain names', async () => {
      const storage = await fresh(() => T)
      try {
        const names = ['plain', '{"$gt": ""}', '$where', 'a.b', 'a.$[]', '{"$ne": null}']
        for (const [i, name] of names.entries()) {
          await storage.setStatus(name, { status: 'open', openedAt: T, epoch: i + 1, updatedAt: T })
          await storage.recordFailure(name, 1)
        }
        for (const [i, name] of names.entries()) {
          expect((await storage.getStatus(name))?.epoch).toBe(i + 1)
          expect(await storage.failureCount(name, 60_000)).toBe(1)
        }
        await storage.clear('{"$gt": ""}')
        expect(await storage.getStatus('plain')).not.toBeNull()
        expect(await storage.collections.status.countDocuments()).toBe(names.length - 1)
      } finally {
        await dispose(storage)
      }
    })

    it('a corrupt status document is read as absent, reported, and replaced by a CAS from epoch 0', async () => {
      const reports: CorruptDocumentReport[] = []
      const storage = await fresh(() => T, (report) => reports.push(report))
      try {
        await storage.collections.status.insertOne({ _id: 'broken' as never, status: 'ajar', epoch: 'seven', updatedAt: T })
        expect(await storage.getStatus('broken')).toBeNull()
        expect(reports).toEqual([expect.objectContaining({ operation: 'getStatus', circuit: 'broken' })])
        const record = { status: 'open', openedAt: T, epoch: 1, updatedAt: T } as const
        expect(await storage.compareAndSetStatus('broken', 0, record)).toBe(true)
        expect(await storage.getStatus('broken')).toEqual(record)
        expect(await storage.compareAndSetStatus('broken', 0, { ...record, epoch: 2 })).toBe(false)
      } finally {
        await dispose(storage)
      }
    })

    it('a bucket with a non-numeric counter counts as 0, is reported, and is repaired by the next write', async () => {
      const reports: CorruptDocumentReport[] = []
      const storage = await fresh(() => T, (report) => reports.push(report))
      try {
        await storage.collections.buckets.insertOne({ circuit: 'c', second: T / 1000, failures: 'many', successes: 2, touchedAt: new Date() })
        expect(await storage.failureCount('c', 60_000)).toBe(0)
        expect(reports).toHaveLength(1)
        await storage.recordFailure('c', 1)
        expect(await storage.failureCount('c', 60_000)).toBe(1)
        expect(reports).toHaveLength(2)
      } finally {
        await dispose(storage)
      }
    })
  })
})
