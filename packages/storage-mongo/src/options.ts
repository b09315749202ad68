import type { Collection, Db, Document } from 'mongodb'
import { ConfigurationError } from '@breaker/core'
import type { Clock } from '@breaker/core'
import type { CorruptDocumentReport } from './corrupt.js'

/** Scope named in configuration errors. */
export const SCOPE = '@breaker/storage-mongo'

/** The three collections a MongoStorage uses; each must hold only this storage's documents. */
export interface MongoStorageCollections {
  /** One status document per circuit. */
  readonly status: Collection<Document>
  /** Per-second outcome buckets, expired by a TTL index. */
  readonly buckets: Collection<Document>
  /** Half-open probe permits, one document per circuit. */
  readonly leases: Collection<Document>
}

/** Options of {@link MongoStorage}. Give `db`, or `collections`, or both. */
export interface MongoStorageOptions {
  /** Database to keep the collections in; the storage never closes its client. */
  db?: Db
  /**
   * Collections are named `<prefix>_status`, `<prefix>_buckets`, `<prefix>_leases`. Default
   * `'breaker'`. Two storages with different prefixes share a database without seeing each other.
   */
  collectionPrefix?: string
  /** Explicit collections; any one left out is taken from `db` and the prefix. */
  collections?: Partial<MongoStorageCollections>
  /** Epoch ms; default `Date.now`. Buckets are keyed by the second this clock answers. */
  clock?: Clock
  /**
   * How long a bucket is kept after its last write (ms, rounded up to whole seconds): the
   * TTL index's `expireAfterSeconds`. Windows longer than this undercount. Default 1 hour.
   * MongoDB's TTL monitor runs about once a minute, so buckets may outlive it by that much.
   */
  retentionMs?: number
  /**
   * Whether the deployment supports change streams (a replica set or sharded cluster). Turns on
   * `subscribe` and the `subscribe` capability. Declared, never probed per call: pass `true`, or
   * use `MongoStorage.create({ changeStreams: 'detect' })` to ask the server once. Default false.
   */
  changeStreams?: boolean
  /** Called for every document read as absent because it is corrupt; may not throw into reads. */
  onCorrupt?: (report: CorruptDocumentReport) => void
  /** Backend name used in events and errors. Default `'mongo'`. */
  name?: string
}

/** Options with defaults applied and collections resolved. */
export interface ResolvedMongoOptions {
  readonly name: string
  readonly collections: MongoStorageCollections
  readonly clock: Clock
  readonly retentionSeconds: number
  readonly changeStreams: boolean
  readonly onCorrupt: ((report: CorruptDocumentReport) => void) | undefined
}

// What MongoDB allows in a collection name, minus what would be surprising in a prefix.
const PREFIX = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/

/**
 * Applies defaults and checks every option.
 * @throws ConfigurationError naming the option and the value received.
 */
export function resolveOptions(options: MongoStorageOptions): ResolvedMongoOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object with db or collections', options, SCOPE)
  }
  const { db, collectionPrefix = 'breaker', collections = {}, clock = Date.now, retentionMs = 3_600_000 } = options
  const { changeStreams = false, onCorrupt, name = 'mongo' } = options
  if (typeof collectionPrefix !== 'string' || !PREFIX.test(collectionPrefix) || collectionPrefix.startsWith('system.')) {
    throw new ConfigurationError('collectionPrefix', 'must be 1-64 letters, digits, _ - or . (not starting with . or system.)', collectionPrefix, SCOPE)
  }
  if (db !== undefined && (typeof db !== 'object' || db === null || typeof db.collection !== 'function')) {
    throw new ConfigurationError('db', 'must be a mongodb Db (client.db(name))', db, SCOPE)
  }
  const pick = (key: keyof MongoStorageCollections): Collection<Document> => {
    const given = collections[key]
    if (given !== undefined) {
      if (typeof given !== 'object' || given === null || typeof given.findOne !== 'function') {
        throw new ConfigurationError(`collections.${key}`, 'must be a mongodb Collection', given, SCOPE)
      }
      return given
    }
    if (db === undefined) {
      throw new ConfigurationError(`collections.${key}`, 'is required when no db is given', given, SCOPE)
    }
    return db.collection(`${collectionPrefix}_${key}`)
  }
  const resolved = { status: pick('status'), buckets: pick('buckets'), leases: pick('leases') }
  if (typeof clock !== 'function') throw new ConfigurationError('clock', 'must be a function answering epoch ms', clock, SCOPE)
  if (typeof retentionMs !== 'number' || !Number.isFinite(retentionMs) || retentionMs < 1000) {
    throw new ConfigurationError('retentionMs', 'must be a finite number of milliseconds >= 1000', retentionMs, SCOPE)
  }
  if (typeof changeStreams !== 'boolean') {
    throw new ConfigurationError('changeStreams', "must be a boolean (MongoStorage.create also takes 'detect')", changeStreams, SCOPE)
  }
  if (onCorrupt !== undefined && typeof onCorrupt !== 'function') {
    throw new ConfigurationError('onCorrupt', 'must be a function', onCorrupt, SCOPE)
  }
  if (typeof name !== 'string' || name.length === 0) throw new ConfigurationError('name', 'must be a non-empty string', name, SCOPE)
  return {
    name,
    collections: resolved,
    clock,
    retentionSeconds: Math.ceil(retentionMs / 1000),
    changeStreams,
    onCorrupt,
  }
}
