import { ConfigurationError } from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'

/** Names this package in every configuration error. */
export const SCOPE = '@breaker/storage-redis'

/**
 * A millisecond option: `fallback` when absent, else a finite number > 0 (≥ 0 with `allowZero`).
 * @throws ConfigurationError naming the option and the value received.
 */
export function milliseconds(option: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigurationError(option, `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds`, value, SCOPE)
  }
  return value
}

/**
 * The key namespace: a non-empty string without `{` or `}`, which would break the hash tag.
 * @throws ConfigurationError naming `prefix` and the value received.
 */
export function checkPrefix(value: unknown): string {
  const prefix = value ?? 'breaker'
  if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix)) {
    throw new ConfigurationError('prefix', 'must be a non-empty string without { or }', prefix, SCOPE)
  }
  return prefix
}

/** True for something that looks like an ioredis `Redis` or `Cluster` client. */
export function isClient(value: unknown): value is Redis | Cluster {
  return typeof value === 'object' && value !== null && typeof (value as { evalsha?: unknown }).evalsha === 'function'
}

/**
 * An ioredis client option.
 * @throws ConfigurationError naming the option and the value received.
 */
export function checkClient(option: string, value: unknown): Redis | Cluster {
  if (!isClient(value)) throw new ConfigurationError(option, 'must be an ioredis Redis or Cluster client', value, SCOPE)
  return value
}
