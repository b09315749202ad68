import { ConfigurationError } from '@breaker/core'
import type { Clock } from '@breaker/core'

const SCOPE = '@breaker/storage-bucket'

/** Largest ring accepted: one day of seconds (≈ 1.4 MB per circuit). */
export const MAX_BUCKET_COUNT = 86_400

/** Options of `BucketMemoryStorage`. */
export interface BucketMemoryStorageOptions {
  /** Epoch ms; defaults to `Date.now`. Inject one in tests instead of sleeping. */
  clock?: Clock
  /**
   * One-second buckets per circuit, and so the longest window counted (`bucketCount` s);
   * a longer window counts what the ring holds. Memory per circuit is `12 * bucketCount`
   * bytes, fixed. Default 300 (5 minutes, 3 600 bytes).
   */
  bucketCount?: number
}

/** Options with defaults applied. */
export interface ResolvedBucketOptions {
  readonly clock: Clock
  readonly bucketCount: number
}

/**
 * Applies defaults and validates.
 * @throws ConfigurationError naming the option and the value received.
 */
export function resolveBucketOptions(options: BucketMemoryStorageOptions = {}): ResolvedBucketOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object', options, SCOPE)
  }
  const { clock = Date.now, bucketCount = 300 } = options
  if (typeof clock !== 'function') {
    throw new ConfigurationError('clock', 'must be a function answering epoch milliseconds', clock, SCOPE)
  }
  if (!Number.isSafeInteger(bucketCount) || bucketCount < 1 || bucketCount > MAX_BUCKET_COUNT) {
    throw new ConfigurationError('bucketCount', `must be an integer from 1 to ${MAX_BUCKET_COUNT}`, bucketCount, SCOPE)
  }
  return { clock, bucketCount }
}
