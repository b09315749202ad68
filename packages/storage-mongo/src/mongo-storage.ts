import type { Collection, Document } from 'mongodb'
import { BaseStorage, ConfigurationError } from '@breaker/core'
import { reportCorrupt as reportToCore } from '@breaker/core/kit'
import type {
  Clock,
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  StorageCapabilities,
  WindowCounts,
} from '@breaker/core'
import { addToBucket, countWindow } from './buckets.js'
import { StatusWatcher } from './change-stream.js'
import { casFilter, circuitBucketsFilter, leaseFilter, statusFilter, statusReplacement } from './commands.js'
import { reportChangeStreamError, reportCorrupt } from './corrupt.js'
import type { CorruptDocumentReport } from './corrupt.js'
import { detectAndCreate } from './create.js'
import type { MongoStorageCreateOptions } from './create.js'
import { parseStatusDocument } from './documents.js'
import { checkBatch, checkExpectedEpoch, checkLease, checkName, checkRecord, checkWindow } from './arguments.js'
import { isDuplicateKey, wrapError } from './errors.js'
import { ensureBucketIndexes } from './indexes.js'
import { acquireLease, releaseLease } from './leases.js'
import { SCOPE, resolveOptions } from './options.js'
import type { MongoStorageCollections, MongoStorageOptions } from './options.js'

/**
 * Circuit state in MongoDB through the official driver: one status document per circuit
 * written with compare-and-set on `epoch`, outcome counts in per-second bucket documents
 * (`$inc` + upsert, expired by a TTL index), probe leases, and change streams where the
 * deployment has them. Call {@link MongoStorage.ensureIndexes} once at start (or build it with
 * {@link MongoStorage.create}). Every method answers with a promise.
 */
export class MongoStorage extends BaseStorage {
  /** Backend name used in events and errors (`'mongo'` unless the `name` option says otherwise). */
  readonly name: string
  /** `{ scope: 'cluster', atomic, cas, leases: true, subscribe: <changeStreams option> }`. */
  readonly capabilities: StorageCapabilities
  /** The three collections in use. */
  readonly collections: MongoStorageCollections
  private readonly clock: Clock
  private readonly retentionSeconds: number
  private readonly onCorrupt: ((report: CorruptDocumentReport) => void) | undefined
  private readonly watcher: StatusWatcher | undefined

  /** @throws ConfigurationError when an option is missing or out of range. */
  constructor(options: MongoStorageOptions) {
    super()
    const resolved = resolveOptions(options)
    this.name = resolved.name
    this.collections = resolved.collections
    this.clock = resolved.clock
    this.retentionSeconds = resolved.retentionSeconds
    this.onCorrupt = resolved.onCorrupt
    this.capabilities = Object.freeze({
      scope: 'cluster',
      atomic: true,
      cas: true,
      leases: true,
      subscribe: resolved.changeStreams,
    })
    this.watcher = resolved.changeStreams
      ? new StatusWatcher(
          this.collections.status,
          (id, document) => this.deliver(id, document),
          (id) => {
            if (typeof id === 'string') this.listeners.resync(id)
          },
          (error) => {
            reportChangeStreamError({ storage: this.name, collection: this.collections.status.collectionName, error })
            // The stream is gone: pushes may be missed until the next subscribe opens a fresh one.
            this.listeners.resync()
          },
        )
      : undefined
  }

  /**
   * Builds a storage ready for use: creates its indexes, asks the server once whether it has
   * change streams when `changeStreams: 'detect'`, and when it does, opens the stream before
   * answering so no status write after this resolves is missed by subscribers.
   */
  static create(options: MongoStorageCreateOptions): Promise<MongoStorage> {
    return detectAndCreate(options, (resolved) => new MongoStorage(resolved))
  }

  /**
   * Creates the indexes the storage relies on (unique `{ circuit, second }` and the TTL on
   * `touchedAt`, both on the buckets collection). Safe to call repeatedly; a changed
   * `retentionMs` is applied to the existing TTL index.
   */
  ensureIndexes(): Promise<void> {
    return this.run('ensureIndexes', undefined, () => ensureBucketIndexes(this.collections.buckets, this.retentionSeconds))
  }

  /**
   * Opens the status change stream now and resolves once the server has it. `subscribe`
   * opens it lazily otherwise (writes in the first few ms may then go unseen).
   * @throws ConfigurationError when `changeStreams` is false.
   */
  startChangeStream(): Promise<void> {
    return this.run('subscribe', undefined, () => this.requireWatcher().start())
  }

  /** The circuit's status document as a record; `null` when absent or corrupt (then reported). */
  getStatus(circuit: string): Promise<StatusRecord | null> {
    return this.run('getStatus', circuit, async () => {
      const document = await this.collections.status.findOne(statusFilter(checkName(this.name, 'getStatus', circuit)))
      return document === null ? null : this.readStatus('getStatus', circuit, document)
    })
  }

  /** Replaces the circuit's status document unconditionally (last writer wins), upserting it. */
  setStatus(circuit: string, record: StatusRecord): Promise<void> {
    return this.run('setStatus', circuit, async () => {
      const name = checkName(this.name, 'setStatus', circuit)
      const replacement = statusReplacement(checkRecord(this.name, 'setStatus', name, record))
      const write = (): Promise<unknown> => this.collections.status.replaceOne(statusFilter(name), replacement, { upsert: true })
      // Two first writes of one circuit can race to insert; the loser's write is then a replace.
      await write().catch((error: unknown) => (isDuplicateKey(error) ? write() : Promise.reject(error)))
    })
  }

  /**
   * Replaces the status only where the stored epoch (0 when absent or corrupt) is
   * `expectedEpoch`, with one `replaceOne` whose filter pins the epoch. For epoch 0 it upserts,
   * and a racing insert losing on the `_id` index is a lost race (`false`), not an error.
   */
  compareAndSetStatus(circuit: string, expectedEpoch: number, record: StatusRecord): Promise<boolean> {
    return this.run('compareAndSetStatus', circuit, async () => {
      const name = checkName(this.name, 'compareAndSetStatus', circuit)
      checkExpectedEpoch(this.name, name, expectedEpoch)
      const replacement = statusReplacement(checkRecord(this.name, 'compareAndSetStatus', name, record))
      try {
        const result = await this.collections.status.replaceOne(casFilter(name, expectedEpoch), replacement, {
          upsert: expectedEpoch === 0,
        })
        return result.matchedCount === 1 || result.upsertedCount === 1
      } catch (error) {
        if (isDuplicateKey(error)) return false
        throw error
      }
    })
  }

  /** Adds one success to the current second's bucket (`$inc` + upsert); the duration is not kept. */
  recordSuccess(circuit: string, _durationMs: number): Promise<void> {
    return this.run('recordSuccess', circuit, () => this.add('recordSuccess', circuit, { failures: 0, successes: 1 }))
  }

  /** Adds one failure to the current second's bucket (`$inc` + upsert); the duration is not kept. */
  recordFailure(circuit: string, _durationMs: number): Promise<void> {
    return this.run('recordFailure', circuit, () => this.add('recordFailure', circuit, { failures: 1, successes: 0 }))
  }

  /** Successes in the buckets of the last `windowMs` ms (whole seconds, the current one included). */
  successCount(circuit: string, windowMs: number): Promise<number> {
    return this.run('successCount', circuit, async () => (await this.count('successCount', circuit, windowMs, this.clock())).successes)
  }

  /** Failures in the buckets of the last `windowMs` ms (whole seconds, the current one included). */
  failureCount(circuit: string, windowMs: number): Promise<number> {
    return this.run('failureCount', circuit, async () => (await this.count('failureCount', circuit, windowMs, this.clock())).failures)
  }

  /** Counts one outcome (`$inc`), then sums the window (one aggregation): two round trips. */
  override record(circuit: string, outcome: Outcome, _durationMs: number, windowMs: number): Promise<WindowCounts> {
    const batch = outcome === 'failure' ? { failures: 1, successes: 0 } : { failures: 0, successes: 1 }
    return this.recordAll('record', circuit, batch, windowMs)
  }

  /** Counts a whole batch with one `$inc`, then sums the window. */
  override recordBatch(circuit: string, batch: WindowCounts, windowMs: number): Promise<WindowCounts> {
    return this.recordAll('recordBatch', circuit, batch, windowMs)
  }

  protected override counts(circuit: string, windowMs: number): Promise<WindowCounts> {
    return this.run('counts', circuit, () => this.count('counts', circuit, windowMs, this.clock()))
  }

  /**
   * Hands out one of `max` probe permits with one `findOneAndUpdate` on the circuit's lease
   * document; a permit lapses `ttlMs` ms after it was taken (by the injected clock).
   */
  acquireProbe(circuit: string, max: number, ttlMs: number): Promise<ProbeLease | null> {
    return this.run('acquireProbe', circuit, async () => {
      const name = checkName(this.name, 'acquireProbe', circuit)
      checkLease(this.name, name, max, ttlMs)
      const granted = await acquireLease(this.collections.leases, name, max, ttlMs, this.clock())
      if (granted === null) return null
      return {
        id: granted.id,
        expiresAt: granted.expiresAt,
        release: () => this.run('releaseProbe', name, () => releaseLease(this.collections.leases, name, granted.id)),
      }
    })
  }

  /**
   * Pushes every status write seen on the change stream, this instance's included.
   * @throws ConfigurationError when `changeStreams` is false (the capability says so too).
   */
  subscribe(listener: StatusListener): () => void {
    const watcher = this.requireWatcher()
    const remove = this.listeners.add(listener)
    if (!watcher.open) void watcher.start().catch(() => undefined) // failures go to the change stream channel
    return remove
  }

  /**
   * Deletes the circuit's status document, buckets and lease document. This instance's
   * subscribers hear `{ resync: true, circuit }` at once; other instances' through the change
   * stream's delete event.
   */
  clear(circuit: string): Promise<void> {
    return this.run('clear', circuit, async () => {
      const name = checkName(this.name, 'clear', circuit)
      const { status, buckets, leases } = this.collections
      await Promise.all([status.deleteOne(statusFilter(name)), buckets.deleteMany(circuitBucketsFilter(name)), leases.deleteOne(leaseFilter(name))])
      this.listeners.resync(name)
    })
  }

  /** Empties the three collections (they must hold nothing but this storage's documents); subscribers hear `{ resync: true }`. */
  clearAll(): Promise<void> {
    return this.run('clearAll', undefined, async () => {
      const { status, buckets, leases } = this.collections
      await Promise.all([status.deleteMany({}), buckets.deleteMany({}), leases.deleteMany({})])
      this.listeners.resync()
    })
  }

  /** Closes the change stream if one is open; the client belongs to the caller and stays open. */
  async close(): Promise<void> {
    await this.watcher?.close()
  }

  private recordAll(operation: string, circuit: string, batch: WindowCounts, windowMs: number): Promise<WindowCounts> {
    return this.run(operation, circuit, async () => {
      checkWindow(this.name, operation, circuit, windowMs)
      const now = this.clock()
      if (batch.failures > 0 || batch.successes > 0) await this.add(operation, circuit, batch, now)
      return this.count(operation, circuit, windowMs, now)
    })
  }

  private add(operation: string, circuit: string, batch: WindowCounts, now = this.clock()): Promise<void> {
    const name = checkName(this.name, operation, circuit)
    checkBatch(this.name, operation, name, batch)
    return addToBucket(this.collections.buckets, name, now, batch, (doc, reason) => this.corrupt(operation, this.collections.buckets, name, doc, reason))
  }

  private count(operation: string, circuit: string, windowMs: number, now: number): Promise<WindowCounts> {
    const name = checkName(this.name, operation, circuit)
    checkWindow(this.name, operation, name, windowMs)
    return countWindow(this.collections.buckets, name, now, windowMs, (doc, reason) => this.corrupt(operation, this.collections.buckets, name, doc, reason))
  }

  private readStatus(operation: string, circuit: string, document: unknown): StatusRecord | null {
    const parsed = parseStatusDocument(document)
    if ('record' in parsed) return parsed.record
    this.corrupt(operation, this.collections.status, circuit, document, parsed.corrupt)
    return null
  }

  /** A change event: corrupt documents are reported and skipped, good ones told to listeners. */
  private deliver(id: unknown, document: unknown): void {
    if (typeof id !== 'string') {
      this.corrupt('subscribe', this.collections.status, undefined, document, '_id is not a string circuit name')
      return
    }
    const record = this.readStatus('subscribe', id, document)
    if (record !== null) this.listeners.notify(id, record)
  }

  private corrupt(operation: string, collection: Collection<Document>, circuit: string | undefined, document: unknown, reason: string): void {
    // Core's channel (`breaker:storage:error`, code ERR_STORAGE_CORRUPT) like every backend, plus
    // this package's own report with the collection and document.
    reportToCore({ storage: this.name, circuit: circuit ?? '', operation }, `${collection.collectionName}: ${reason}`, document)
    reportCorrupt({ storage: this.name, operation, collection: collection.collectionName, circuit, reason, document }, this.onCorrupt)
  }

  private requireWatcher(): StatusWatcher {
    if (this.watcher === undefined) {
      throw new ConfigurationError('changeStreams', 'must be true to subscribe (needs a replica set or sharded cluster)', false, SCOPE)
    }
    return this.watcher
  }

  /** Runs one contract operation, turning every failure into a StorageError naming it. */
  private async run<T>(operation: string, circuit: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (error instanceof ConfigurationError) throw error
      throw wrapError(error, this.name, operation, typeof circuit === 'string' ? circuit : undefined, this.collections.status.timeoutMS)
    }
  }
}
