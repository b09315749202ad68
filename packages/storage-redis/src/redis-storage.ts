import { randomUUID } from 'node:crypto'
import type {
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  Storage,
  StorageCapabilities,
  WindowCounts,
} from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'
import { clearPrefix } from './clear-all.js'
import { guard, STORAGE_NAME } from './errors.js'
import { circuitKeys, statusChannel } from './keys.js'
import type { CircuitKeys } from './keys.js'
import { resolveOptions } from './options.js'
import type { RedisStorageOptions, ResolvedOptions } from './options.js'
import { ACQUIRE_PROBE, CAS_STATUS, CLEAR, COUNTS, INCREMENT, RECORD, SET_STATUS } from './scripts.js'
import type { LuaScript } from './scripts.js'
import { decodeStatus, encodeMessage, encodeStatus } from './status-codec.js'
import { StatusSubscription } from './subscription.js'

const CAPABILITIES: StorageCapabilities = Object.freeze({
  scope: 'cluster',
  atomic: true,
  cas: true,
  leases: true,
  subscribe: true,
})

/** The status that rode along with a record reply; `undefined` (mirror left alone) when it is not one of ours. */
function decodeOrSkip(fields: unknown[]): StatusRecord | null | undefined {
  try {
    return decodeStatus(fields)
  } catch {
    return undefined
  }
}

/**
 * Circuit storage on Redis through ioredis, shared by every instance that uses the same
 * server (or Cluster) and prefix. Each write-and-count is one EVALSHA of a Lua script, so it
 * is atomic and costs one round trip; windows and lease expiry use the server's clock.
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
  // Key strings are built once per circuit name; circuits are few and long-lived.
  private readonly keyCache = new Map<string, CircuitKeys>()

  /** @throws ConfigurationError when an option is missing or out of range. */
  constructor(options: RedisStorageOptions) {
    this.options = resolveOptions(options)
    this.channel = statusChannel(this.options.prefix)
    this.subscription = new StatusSubscription({
      client: this.options.client,
      subscriber: this.options.subscriber,
      channel: this.channel,
      mirror: this.options.mirrorStatus,
      onError: this.options.onError,
    })
    // Subscribed from the start: every circuit listens anyway, the mirror needs it, and a write
    // made while subscribed resolves only once its own message is back (so no listener added
    // after it hears of it late — which on a Cluster, where messages cross the cluster bus,
    // could otherwise happen).
    this.subscription.start()
  }

  /** The ioredis client the storage runs on (yours). */
  get client(): Redis | Cluster {
    return this.options.client
  }

  getStatus(circuit: string): StatusRecord | null | Promise<StatusRecord | null> {
    const mirrored = this.subscription.mirrored(circuit)
    if (mirrored !== undefined) return mirrored
    const key = this.keys(circuit).status
    const ticket = this.subscription.ticket()
    // Decoding happens inside the guard, so a corrupt hash is a StorageError like any other failure.
    const read = () => this.options.client.hmget(key, 's', 'o', 'e', 'u').then(decodeStatus)
    return guard(read, 'getStatus', circuit, this.options.timeout).then((record) => {
      this.subscription.saw(circuit, record)
      this.subscription.observe(circuit, record, ticket)
      return record
    })
  }

  async setStatus(circuit: string, record: StatusRecord): Promise<void> {
    const n = await this.beforeWrite(circuit)
    try {
      await this.run(SET_STATUS, 'setStatus', circuit, [this.keys(circuit).status], [
        ...encodeStatus(record),
        this.channel,
        this.message(circuit, record, n),
      ])
    } catch (error) {
      this.subscription.settled(circuit, n)
      throw error
    }
    await this.subscription.echo(n, this.options.timeout || 1_000)
  }

  async compareAndSetStatus(circuit: string, expectedEpoch: number, record: StatusRecord): Promise<boolean> {
    const n = await this.beforeWrite(circuit)
    let reply: unknown[]
    try {
      reply = (await this.run(CAS_STATUS, 'compareAndSetStatus', circuit, [this.keys(circuit).status], [
        expectedEpoch,
        ...encodeStatus(record),
        this.channel,
        this.message(circuit, record, n),
      ])) as unknown[]
    } catch (error) {
      this.subscription.settled(circuit, n)
      throw error
    }
    const won = reply[0] === 1
    // A lost CAS published nothing, so no message of ours is on its way; the status that beat
    // it came back in the reply, and the mirror must not answer anything older.
    if (!won) {
      this.subscription.settled(circuit, n)
      try {
        this.subscription.saw(circuit, decodeStatus(reply.slice(1)))
      } catch {
        // A corrupt winner's record: nothing to learn from it; the next read reports it.
      }
    }
    else await this.subscription.echo(n, this.options.timeout || 1_000)
    return won
  }

  async recordSuccess(circuit: string, _durationMs: number): Promise<void> {
    await this.increment(circuit, 0, 1, 'recordSuccess')
  }

  async recordFailure(circuit: string, _durationMs: number): Promise<void> {
    await this.increment(circuit, 1, 0, 'recordFailure')
  }

  async successCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.counts(circuit, windowMs, 'successCount')).successes
  }

  async failureCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.counts(circuit, windowMs, 'failureCount')).failures
  }

  /**
   * Counts one outcome and answers the window's counts: one EVALSHA. Buckets older than the
   * window are deleted on the way, so the hash it sums stays the size of the window.
   */
  record(circuit: string, outcome: Outcome, _durationMs: number, windowMs: number): Promise<WindowCounts> {
    const failure = outcome === 'failure' ? 1 : 0
    return this.write(circuit, failure, 1 - failure, windowMs, 'record')
  }

  /** Counts a batch of outcomes and answers the window's counts: one EVALSHA. */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): Promise<WindowCounts> {
    return this.write(circuit, batch.failures, batch.successes, windowMs, 'recordBatch')
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

  /** Hears every status write under this prefix, from any instance, over a dedicated pub/sub connection. */
  subscribe(listener: StatusListener): () => void {
    return this.subscription.add(listener)
  }

  async clear(circuit: string): Promise<void> {
    const keys = this.keys(circuit)
    const n = await this.beforeWrite(circuit)
    try {
      await this.run(CLEAR, 'clear', circuit, [keys.status, keys.counts, keys.leases], [this.channel, this.message(circuit, null, n)])
    } catch (error) {
      this.subscription.settled(circuit, n)
      throw error
    }
    await this.subscription.echo(n, this.options.timeout || 1_000)
  }

  /** Deletes this prefix's circuit keys only, found with SCAN (never KEYS, never FLUSH). */
  async clearAll(): Promise<void> {
    const { client, prefix } = this.options
    // SCAN walks the whole keyspace, so it gets a deadline proportional to work, not the per-call one.
    await guard(() => clearPrefix(client, prefix), 'clearAll', undefined, 0)
    await guard(() => client.publish(this.channel, encodeMessage({ all: true })), 'clearAll', undefined, this.options.timeout)
    this.subscription.forget()
  }

  /** Closes the subscriber connection if the storage opened it (call it when done). Your client stays open. */
  async close(): Promise<void> {
    await this.subscription.close()
  }

  /**
   * Before a status write: our own listeners must hear of it, so a SUBSCRIBE still in flight is
   * awaited (bounded by the timeout); and the mirror forgets the circuit until the write's own
   * message comes back.
   */
  private async beforeWrite(circuit: string): Promise<number> {
    const ready = this.subscription.ready()
    if (ready) await guard(() => ready, 'subscribe', circuit, this.options.timeout).catch(() => {})
    return this.subscription.writing(circuit)
  }

  private message(circuit: string, record: StatusRecord | null, n: number): string {
    return encodeMessage({ c: circuit, r: record, i: this.subscription.origin, n })
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

  private async increment(circuit: string, failures: number, successes: number, operation: string): Promise<void> {
    const { bucketMs, retentionMs } = this.options
    await this.run(INCREMENT, operation, circuit, [this.keys(circuit).counts], [failures, successes, bucketMs, retentionMs])
  }

  private async write(circuit: string, failures: number, successes: number, windowMs: number, operation: string): Promise<WindowCounts> {
    const keys = this.keys(circuit)
    const ticket = this.subscription.ticket()
    const reply = (await this.run(RECORD, operation, circuit, [keys.counts, keys.status], [
      failures,
      successes,
      windowMs,
      this.options.bucketMs,
      windowMs,
    ])) as unknown[]
    // The status rides along in the same reply; with `mirrorStatus` it refreshes the mirror, so
    // the next getStatus of a busy circuit costs no trip.
    const status = decodeOrSkip(reply.slice(3))
    if (status !== undefined) this.subscription.observe(circuit, status, ticket)
    return { failures: Number(reply[0]), successes: Number(reply[1]) }
  }

  private async counts(circuit: string, windowMs: number, operation: string): Promise<WindowCounts> {
    const reply = (await this.run(COUNTS, operation, circuit, [this.keys(circuit).counts], [windowMs, this.options.bucketMs])) as number[]
    return { failures: Number(reply[0]), successes: Number(reply[1]) }
  }

  /** EVALSHA, and on NOSCRIPT (a restarted or failed-over server) EVAL, which also reloads it. */
  private run(script: LuaScript, operation: string, circuit: string | undefined, keys: string[], args: Array<string | number>): Promise<unknown> {
    const client = this.options.client
    return guard(
      () =>
        client.evalsha(script.sha, script.keys, ...keys, ...args).catch((error: unknown) => {
          if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
            return client.eval(script.source, script.keys, ...keys, ...args)
          }
          throw error
        }),
      operation,
      circuit,
      this.options.timeout,
    )
  }
}
