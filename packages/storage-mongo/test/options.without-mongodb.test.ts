import { describe, expect, it } from 'vitest'
import { isConfigurationError } from '@breaker/core'
import { MongoStorage } from '@breaker/storage-mongo'
import type { MongoStorageOptions } from '@breaker/storage-mongo'
import { FakeDb } from './fake-db.js'

function configurationError(options: unknown): { option: string; message: string } {
  try {
    new MongoStorage(options as MongoStorageOptions)
  } catch (error) {
    expect(isConfigurationError(error)).toBe(true)
    return error as { option: string; message: string }
  }
  throw new Error('expected a ConfigurationError')
}

describe('MongoStorage options (unit tests with a recording fake: these do not talk to MongoDB)', () => {
  const db = new FakeDb().asDb()

  it.each([
    [{}, 'collections.status'],
    [{ db: {} }, 'db'],
    [{ db, collectionPrefix: '' }, 'collectionPrefix'],
    [{ db, collectionPrefix: 'a$b' }, 'collectionPrefix'],
    [{ db, collectionPrefix: 'system.x' }, 'collectionPrefix'],
    [{ db, retentionMs: 10 }, 'retentionMs'],
    [{ db, retentionMs: Number.POSITIVE_INFINITY }, 'retentionMs'],
    [{ db, changeStreams: 'detect' }, 'changeStreams'],
    [{ db, clock: 5 }, 'clock'],
    [{ db, onCorrupt: 'log' }, 'onCorrupt'],
    [{ db, name: '' }, 'name'],
    [{ collections: { status: {} } }, 'collections.status'],
  ])('%j is refused naming %s', (options, option) => {
    const error = configurationError(options)
    expect(error.option).toBe(option)
    expect(error.message).toMatch(/^\[@breaker\/storage-mongo\] /)
  })

  it('explicit collections replace the prefixed ones; the rest still come from db', () => {
    const other = new FakeDb()
    const status = other.collection('my_status').asCollection()
    const storage = new MongoStorage({ db, collections: { status } })
    expect(storage.collections.status).toBe(status)
    expect(storage.collections.buckets.collectionName).toBe('breaker_buckets')
  })

  it('all three explicit collections need no db', () => {
    const other = new FakeDb()
    const [status, buckets, leases] = ['s', 'b', 'l'].map((name) => other.collection(name).asCollection()) as [never, never, never]
    expect(new MongoStorage({ collections: { status, buckets, leases } }).collections.leases.collectionName).toBe('l')
  })
})
