import diagnostics from 'node:diagnostics_channel'
import { CHANNELS, ConfigurationError } from '@breaker/core'
import type { StorageError, StorageErrorMessage } from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'

const SCOPE = '@breaker/storage-redis'

/** Options of `new RedisStorage(options)`. */
export interface RedisStorageOptions {
  /** An ioredis `Redis` or `Cluster` client. You own it: the storage never closes it. */
  readonly client: Redis | Cluster
  /** Namespace of every key and of the status channel; default `'breaker'`. May not contain `{` or `}`. */
  readonly prefix?: string
  /** Width of one counter bucket (ms); the resolution of windows. Default 1 000. */
  readonly bucketMs?: number
  /**
   * How long counters written by `recordSuccess` / `recordFailure` are kept (ms), which is the
   * longest window they can answer for. `record` and `recordBatch` delete every bucket older than
   * their own window as they go (a circuit counts over one window). Default 3 600 000.
   */
  readonly retentionMs?: number
  /** Deadline of every operation (ms); a late answer becomes a `StorageTimeoutError`. 0 = none. Default 1 000. */
  readonly timeout?: number
  /**
   * A connection for pub/sub that you own. Without it the storage opens its own with
   * `client.duplicate()` at construction and closes it in `close()`.
   */
  readonly subscriber?: Redis | Cluster
  /**
   * Answer `getStatus` from a local mirror of the statuses this process has read or been pushed,
   * while the subscriber connection is up — no round trip. A peer's transition reaches the mirror
   * as fast as pub/sub delivers it (well under a millisecond on a LAN), so a read may trail a
   * peer's write by that much. Default true: an uncached call costs one round trip instead of
   * two. `false` makes every `getStatus` ask Redis.
   */
  readonly mirrorStatus?: boolean
  /**
   * Receives failures no caller can be told of (subscriber connection, bad messages, throwing
   * listeners). Default: published on core's `breaker:storage:error` diagnostics channel.
   */
  readonly onError?: (error: StorageError) => void
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly client: Redis | Cluster
  readonly prefix: string
  readonly bucketMs: number
  readonly retentionMs: number
  readonly timeout: number
  readonly subscriber: Redis | Cluster | undefined
  readonly mirrorStatus: boolean
  readonly onError: (error: StorageError) => void
}

function positive(option: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigurationError(option, `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds`, value, SCOPE)
  }
  return value
}

function isClient(value: unknown): value is Redis | Cluster {
  return typeof value === 'object' && value !== null && typeof (value as { evalsha?: unknown }).evalsha === 'function'
}

const storageErrors = diagnostics.channel(CHANNELS.storageError)

/** Default `onError`: the error goes to core's `breaker:storage:error` channel, where telemetry listens. */
function publishStorageError(error: StorageError): void {
  if (!storageErrors.hasSubscribers) return
  const message: StorageErrorMessage = { circuit: error.circuit ?? '', storage: error.storage, operation: error.operation, error }
  storageErrors.publish(message)
}

/**
 * Applies defaults and checks every option.
 * @throws ConfigurationError naming the first bad option and the value received.
 */
export function resolveOptions(options: RedisStorageOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object', options, SCOPE)
  if (!isClient(options.client)) throw new ConfigurationError('client', 'must be an ioredis Redis or Cluster client', options.client, SCOPE)
  if (options.subscriber !== undefined && !isClient(options.subscriber)) {
    throw new ConfigurationError('subscriber', 'must be an ioredis Redis or Cluster client', options.subscriber, SCOPE)
  }
  const prefix = options.prefix ?? 'breaker'
  if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix)) {
    throw new ConfigurationError('prefix', 'must be a non-empty string without { or }', prefix, SCOPE)
  }
  const bucketMs = positive('bucketMs', options.bucketMs, 1_000)
  if (!Number.isInteger(bucketMs)) throw new ConfigurationError('bucketMs', 'must be a whole number of milliseconds', bucketMs, SCOPE)
  return {
    client: options.client,
    prefix,
    bucketMs,
    retentionMs: positive('retentionMs', options.retentionMs, 3_600_000),
    timeout: positive('timeout', options.timeout, 1_000, true),
    subscriber: options.subscriber,
    mirrorStatus: options.mirrorStatus ?? true,
    onError: options.onError ?? publishStorageError,
  }
}
