import { ConfigurationError } from '@breaker/core'
import type { Clock } from '@breaker/core'
import type Keyv from 'keyv'

const SCOPE = '@breaker/storage-keyv'

/** Options of `new KeyvStorage(options)`. */
export interface KeyvStorageOptions {
  /**
   * A Keyv instance on any store: Redis, PostgreSQL, SQLite, Memcached, in-memory. You own it.
   * The storage turns on its `throwOnErrors`, since a swallowed error would read as zero failures.
   */
  readonly keyv: Keyv
  /** Namespace of every key; default `'breaker'`. */
  readonly prefix?: string
  /** Clock for bucket times (epoch ms); default `Date.now`. Keyv has no server time, so instances need synced clocks. */
  readonly clock?: Clock
  /** Width of one counter bucket (ms), the resolution of windows; default 1 000. */
  readonly bucketMs?: number
  /** How long counts are kept at least (ms); `record` keeps its window if longer. Default 60 000. */
  readonly retentionMs?: number
  /** Writer slots per circuit: how many storage instances may count one circuit at once. Default 64. */
  readonly maxWriters?: number
  /** Pause between claiming a writer slot and checking nobody else took it (ms); default 40. */
  readonly claimCheckMs?: number
  /** Deadline of every store operation (ms); a late answer becomes a `StorageTimeoutError`. 0 = none. Default 2 000. */
  readonly timeout?: number
  /** Who shares the store: `'cluster'` (default) or `'process'` for an in-memory store. */
  readonly scope?: 'process' | 'host' | 'cluster'
  /** This instance's writer id; default a random UUID. Two live instances must never share one. */
  readonly writerId?: string
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly keyv: Keyv
  readonly prefix: string
  readonly clock: Clock
  readonly bucketMs: number
  readonly retentionMs: number
  readonly maxWriters: number
  readonly claimCheckMs: number
  readonly timeout: number
  readonly scope: 'process' | 'host' | 'cluster'
  readonly writerId: string | undefined
}

function number(option: string, value: unknown, fallback: number, { zero = false, integer = false } = {}): number {
  if (value === undefined) return fallback
  const ok =
    typeof value === 'number' && Number.isFinite(value) && (zero ? value >= 0 : value > 0) && (!integer || Number.isInteger(value))
  if (!ok) throw new ConfigurationError(option, `must be a ${zero ? 'non-negative' : 'positive'} ${integer ? 'whole ' : ''}number`, value, SCOPE)
  return value as number
}

/**
 * Applies defaults and checks every option.
 * @throws ConfigurationError naming the first bad option and the value received.
 */
export function resolveOptions(options: KeyvStorageOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object', options, SCOPE)
  const keyv = options.keyv as unknown as Record<string, unknown> | undefined
  if (typeof keyv !== 'object' || keyv === null || typeof keyv['get'] !== 'function' || typeof keyv['set'] !== 'function') {
    throw new ConfigurationError('keyv', 'must be a Keyv instance', options.keyv, SCOPE)
  }
  const prefix = options.prefix ?? 'breaker'
  if (typeof prefix !== 'string' || prefix === '') throw new ConfigurationError('prefix', 'must be a non-empty string', prefix, SCOPE)
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new ConfigurationError('clock', 'must be a function answering epoch ms', options.clock, SCOPE)
  }
  const scope = options.scope ?? 'cluster'
  if (scope !== 'process' && scope !== 'host' && scope !== 'cluster') {
    throw new ConfigurationError('scope', "must be 'process', 'host' or 'cluster'", scope, SCOPE)
  }
  if (options.writerId !== undefined && (typeof options.writerId !== 'string' || !/^[\w.-]{1,100}$/.test(options.writerId))) {
    throw new ConfigurationError('writerId', 'must be 1–100 letters, digits, _, . or -', options.writerId, SCOPE)
  }
  return {
    keyv: options.keyv,
    prefix,
    clock: options.clock ?? Date.now,
    bucketMs: number('bucketMs', options.bucketMs, 1_000, { integer: true }),
    retentionMs: number('retentionMs', options.retentionMs, 60_000),
    maxWriters: number('maxWriters', options.maxWriters, 64, { integer: true }),
    claimCheckMs: number('claimCheckMs', options.claimCheckMs, 40, { zero: true }),
    timeout: number('timeout', options.timeout, 2_000, { zero: true }),
    scope,
    writerId: options.writerId,
  }
}
