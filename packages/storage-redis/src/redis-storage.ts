import { randomUUID } from 'node:crypto'
import { reportCorrupt } from '@breaker/core/kit'
import type {
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  Storage,
  StorageCapabilities,
  StorageError,
  WindowCounts,
} from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'
import { Batcher } from './batcher.js'
import { clearPrefix } from './clear-all.js'
import { guard, STORAGE_NAME, toStorageError } from './errors.js'
import { circuitKeys, statusChannel } from './keys.js'
import type { CircuitKeys } from './keys.js'
import { publishStorageError, resolveOptions } from './options.js'
import type { RedisStorageOptions, ResolvedOptions } from './options.js'
import { ACQUIRE_PROBE, CAS_STATUS, CLEAR, SET_STATUS, evalScript } from './scripts.js'
import type { LuaScript } from './scripts.js'
import { decodeStatusFields, encodeMessage, encodeStatus } from './status-codec.js'
import { StatusSubscription } from './subscription.js'

// No `maxNameBytes`: Redis keys may be up to 512 MB, so Redis imposes no limit worth declaring.
const CAPABILITIES: StorageCapabilities = Object.freeze({
  scope: 'cluster',
  atomic: true,
  cas: true,
  leases: true,
  subscribe: true,
})

/**
 * Circuit storage on Redis through ioredis, shared by every instance that uses the same
 * server (or Cluster) and prefix. Counter writes and reads and status reads queued in one tick
 * go out as one script call, atomic, on the server's clock; status writes are compare-and-set
 * scripts that publish on the status channel. It caches no status: the circuit's
 * `stateCacheTtl` is the only cache, kept fresh by pushes and resync notices.
 *
 * @example
 * const storage = new RedisStorage({ client: new Redis(process.env.REDIS_URL) })
 */
export class RedisStorage implements Storage {
  readonly name = STORAGE_NAME
  readonly capabilities = CAPABILITIES
  private readonly options: ResolvedOptions
  private readonly channel: string
  private readonly subscription: StatusSubscription
  private readonly batcher: Batcher
  // Key strings are built once per circuit name; circuits are few and long-lived.
  private readonly keyCache = new Map<string, CircuitKeys>()

  /** @throws ConfigurationError when an option is missing or out of range. */
  constructor(options: RedisStorageOptions) {
    this.options = resolveOptions(options)
    this.channel = statusChannel(this.options.prefix)
    this.batcher = new Batcher({
      client: this.options.client,
      bucketMs: this.options.bucketMs,
      timeout: this.options.timeout,
      maxInFlight: this.options.maxInFlight,
      onCorrupt: (problem, value, circuit) => this.corrupt(problem, value, circuit, 'record'),
    })
    this.subscription = new StatusSubscription({
      client: this.options.client,
      subscriber: this.options.subscriber,
      channel: this.channel,
      onError: (error, operation, circuit) => this.report(toStorageError(error, operation, circuit)),
      onCorrupt: (problem, raw, circuit) => this.corrupt(problem, raw, circuit ?? '', 'subscribe'),
    })
    // Subscribed from the start: every circuit with a cache listens, and the first status write
    // waits for the channel so that this process's own listeners hear of it.
    this.subscription.start()
  }

  /** The ioredis client the storage runs on (yours). */
  get client(): Redis | Cluster {
    return this.options.client
  }

  /** False while the client is still connecting or reconnecting: a fallback chain skips it without counting a failure. */
  ready(): boolean {
    return this.options.client.status === 'ready'
  }

  /** The stored status, validated: a hash that is not a valid status is reported and read as absent. */
  getStatus(circuit: string): Promise<StatusRecord | null> {
    return this.batcher.readStatus(circuit, this.keys(circuit).status).then((fields) => {
      const decoded = decodeStatusFields(fields)
      if (decoded === null) return null
      if ('record' in decoded) return decoded.record
      this.corrupt(decoded.corrupt, fields, circuit, 'getStatus')
      return null
    })
  }

  async setStatus(circuit: string, record: StatusRecord): Promise<void> {
    await this.published(SET_STATUS, 'setStatus', circuit, [this.keys(circuit).status], encodeStatus(record), record)
  }

  async compareAndSetStatus(circuit: string, expectedEpoch: number, record: StatusRecord): Promise<boolean> {
    const keys = [this.keys(circuit).status]
    return (await this.published(CAS_STATUS, 'compareAndSetStatus', circuit, keys, [expectedEpoch, ...encodeStatus(record)], record)) === 1
  }

  recordSuccess(circuit: string, _durationMs: number): Promise<void> {
    return this.batcher.increment(circuit, this.keys(circuit).counts, 0, 1, this.options.retentionMs, 'recordSuccess')
  }

  recordFailure(circuit: string, _durationMs: number): Promise<void> {
    return this.batcher.increment(circuit, this.keys(circuit).counts, 1, 0, this.options.retentionMs, 'recordFailure')
  }

  async successCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.counts(circuit, windowMs, 'successCount')).successes
  }

  async failureCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.counts(circuit, windowMs, 'failureCount')).failures
  }

  /**
   * Counts one outcome and answers the window's counts, in the same trip as everything else
   * queued this tick. Buckets older than the window are deleted when a new bucket starts.
   */
  record(circuit: string, outcome: Outcome, _durationMs: number, windowMs: number): Promise<WindowCounts> {
    const failure = outcome === 'failure' ? 1 : 0
    return this.batcher.count(circuit, this.keys(circuit).counts, failure, 1 - failure, windowMs, windowMs, 'record')
  }

  /** Counts a batch of outcomes and answers the window's counts; batches of many circuits share one trip. */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): Promise<WindowCounts> {
    return this.batcher.count(circuit, this.keys(circuit).counts, batch.failures, batch.successes, windowMs, windowMs, 'recordBatch')
  }

  async acquireProbe(circuit: string, max: number, ttlMs: number): Promise<ProbeLease | null> {
    if (max <= 0) return null
    const key = this.keys(circuit).leases
    const id = randomUUID()
    const reply = (await this.run(ACQUIRE_PROBE, 'acquireProbe', circuit, [key], [max, Math.max(1, Math.ceil(ttlMs)), id])) as number[]
    if (reply[0] !== 1) return null
    let released: Promise<void> | undefined
    return {
      id,
      expiresAt: Number(reply[1]),
      // Removing our own member only: a lapsed lease's slot may already belong to someone else.
      release: () =>
        (released ??= guard(() => this.options.client.zrem(key, id), 'releaseProbe', circuit, this.options.timeout).then(() => {})),
    }
  }

  /**
   * Hears every status write under this prefix, from any instance, over a dedicated pub/sub
   * connection; and a resync notice whenever writes may have been missed (the connection
   * dropped, came back, or a Cluster moved it to another node) or a status was cleared.
   */
  subscribe(listener: StatusListener): () => void {
    return this.subscription.add(listener)
  }

  async clear(circuit: string): Promise<void> {
    const keys = this.keys(circuit)
    // Outcomes queued before the clear would be erased by it; sent after it, they would come back.
    this.batcher.drop([keys.counts])
    await this.published(CLEAR, 'clear', circuit, [keys.status, keys.counts, keys.leases], [], null)
  }

  /** Deletes this prefix's circuit keys only, found with SCAN (never KEYS, never FLUSH). */
  async clearAll(): Promise<void> {
    const { client, prefix } = this.options
    this.batcher.drop()
    // SCAN walks the whole keyspace, so it gets a deadline proportional to work, not the per-call one.
    await guard(() => clearPrefix(client, prefix), 'clearAll', undefined, 0)
    await guard(() => client.publish(this.channel, encodeMessage({ all: true })), 'clearAll', undefined, this.options.timeout)
    // Our own listeners re-read now, whether or not the message comes back.
    this.subscription.resync()
  }

  /** Closes the subscriber connection if the storage opened it (call it when done). Your client stays open. */
  async close(): Promise<void> {
    await this.subscription.close()
  }

  /**
   * Runs a script that writes a status and publishes it (`args`, then channel and message). It
   * waits (bounded) for the first SUBSCRIBE before, and for its own message after, so that this
   * process's listeners have heard of the write when it resolves. Answers the script's reply.
   */
  private async published(
    script: LuaScript,
    operation: string,
    circuit: string,
    keys: string[],
    args: ReadonlyArray<string | number>,
    record: StatusRecord | null,
  ): Promise<unknown> {
    const first = this.subscription.whenSubscribed()
    if (first && !this.subscription.live) await guard(() => first, 'subscribe', circuit, this.options.timeout).catch(() => {})
    const n = this.subscription.nextSequence()
    const message = encodeMessage({ c: circuit, r: record, i: this.subscription.origin, n })
    const echo = this.subscription.echo(n, this.options.timeout || 1_000)
    let reply: unknown
    try {
      reply = await this.run(script, operation, circuit, keys, [...args, this.channel, message])
    } catch (error) {
      this.subscription.settled(n)
      throw error
    }
    // A lost compare-and-set published nothing.
    if (reply === 0) this.subscription.settled(n)
    await echo
    return reply
  }

  private keys(circuit: string): CircuitKeys {
    let keys = this.keyCache.get(circuit)
    if (!keys) {
      keys = circuitKeys(this.options.prefix, circuit)
      if (this.keyCache.size > 10_000) this.keyCache.clear()
      this.keyCache.set(circuit, keys)
    }
    return keys
  }

  private counts(circuit: string, windowMs: number, operation: string): Promise<WindowCounts> {
    const keep = Math.max(windowMs, this.options.retentionMs)
    return this.batcher.count(circuit, this.keys(circuit).counts, 0, 0, keep, windowMs, operation)
  }

  private run(script: LuaScript, operation: string, circuit: string | undefined, keys: string[], args: Array<string | number>): Promise<unknown> {
    return guard(() => evalScript(this.options.client, script, keys, args), operation, circuit, this.options.timeout)
  }

  /** A stored value that is not ours: reported on `breaker:storage:error` (and to a custom `onError`), read as absent. */
  private corrupt(problem: string, value: unknown, circuit: string, operation: string): void {
    const error = reportCorrupt({ storage: STORAGE_NAME, circuit, operation }, problem, value)
    if (this.options.onError !== publishStorageError) this.report(error)
  }

  private report(error: StorageError): void {
    try {
      this.options.onError(error)
    } catch {
      // The error reporter itself must not crash the process.
    }
  }
}
