import diagnostics from 'node:diagnostics_channel'
import { CHANNELS, ConfigurationError } from '@breaker/core'
import type { StorageError, StorageErrorMessage } from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'
import { SCOPE, checkClient, checkPrefix, milliseconds } from './checks.js'

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
   * Most batches of outcome writes and reads in flight at once (default 4). Everything queued in
   * one tick goes out as one script call; past this bound, new work waits in the next batch, where
   * writes to one circuit merge into one increment, so a slow Redis makes work wait, not pile up.
   */
  readonly maxInFlight?: number
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
  readonly maxInFlight: number
  readonly onError: (error: StorageError) => void
}

const storageErrors = diagnostics.channel(CHANNELS.storageError)

/** Default `onError`: the error goes to core's `breaker:storage:error` channel, where telemetry listens. */
export function publishStorageError(error: StorageError): void {
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
  if ('mirrorStatus' in options) {
    throw new ConfigurationError(
      'mirrorStatus',
      "was removed: the circuit's stateCacheTtl is the only status cache, kept fresh by pub/sub pushes and resync notices",
      (options as { mirrorStatus?: unknown }).mirrorStatus,
      SCOPE,
    )
  }
  const client = checkClient('client', options.client)
  const subscriber = options.subscriber === undefined ? undefined : checkClient('subscriber', options.subscriber)
  const prefix = checkPrefix(options.prefix)
  const bucketMs = milliseconds('bucketMs', options.bucketMs, 1_000)
  if (!Number.isInteger(bucketMs)) throw new ConfigurationError('bucketMs', 'must be a whole number of milliseconds', bucketMs, SCOPE)
  const maxInFlight = options.maxInFlight ?? 4
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) {
    throw new ConfigurationError('maxInFlight', 'must be a whole number >= 1', maxInFlight, SCOPE)
  }
  return {
    client,
    prefix,
    bucketMs,
    retentionMs: milliseconds('retentionMs', options.retentionMs, 3_600_000),
    timeout: milliseconds('timeout', options.timeout, 1_000, true),
    subscriber,
    maxInFlight,
    onError: options.onError ?? publishStorageError,
  }
}
