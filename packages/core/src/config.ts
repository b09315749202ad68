import { ConfigurationError } from './errors.js'
import type { BatchOptions, CircuitHooks, CircuitOptions, Fallback, Threshold } from './options.js'
import type { Storage } from './storage.js'
import type { Clock } from './types.js'

/** A circuit's options after validation and defaults: every field present. */
export interface CircuitConfig {
  readonly threshold: Threshold
  readonly resetAfter: number
  readonly jitter: number
  readonly halfOpenCalls: number
  readonly successThreshold: number
  readonly timeout: number | undefined
  readonly maxConcurrent: number | undefined
  readonly isFailure: ((error: unknown) => boolean) | undefined
  readonly fallback: Fallback | undefined
  readonly stateCacheTtl: number
  readonly batch: BatchOptions | undefined
  readonly on: CircuitHooks
  readonly clock: Clock
  readonly onStorageFailure: 'open' | 'throw'
}

const HOOKS = ['open', 'close', 'halfOpen', 'reject', 'stateChange', 'beforeTransition', 'storageError'] as const
const STORAGE_METHODS = ['getStatus', 'setStatus', 'recordSuccess', 'recordFailure', 'successCount', 'failureCount', 'clear', 'clearAll'] as const

function positive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(option, 'must be a positive number of milliseconds', value)
  }
  return value
}

function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(option, 'must be a positive integer', value)
  }
  return value
}

function fraction(option: string, value: unknown, allowZero: boolean): number {
  const ok = typeof value === 'number' && value <= 1 && (allowZero ? value >= 0 : value > 0)
  if (!ok) throw new ConfigurationError(option, `must be a number in ${allowZero ? '[0, 1]' : '(0, 1]'}`, value)
  return value
}

function fn<F>(option: string, value: unknown): F {
  if (typeof value !== 'function') throw new ConfigurationError(option, 'must be a function', value)
  return value as F
}

function threshold(value: unknown): Threshold {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError('threshold', 'must be { failures, within } or { failureRate, minimumCalls, within }', value)
  }
  const t = value as Record<string, unknown>
  const known = new Set(['failures', 'within', 'failureRate', 'minimumCalls'])
  const unknown = Object.keys(t).filter((key) => !known.has(key))
  if (unknown.length > 0 || ('failures' in t) === ('failureRate' in t)) {
    throw new ConfigurationError('threshold', 'must be { failures, within } or { failureRate, minimumCalls, within }', value)
  }
  const within = positive('threshold.within', t.within)
  if ('failures' in t) {
    if ('minimumCalls' in t) throw new ConfigurationError('threshold.minimumCalls', 'goes with failureRate, not failures', t.minimumCalls)
    return { failures: positiveInteger('threshold.failures', t.failures), within }
  }
  return {
    failureRate: fraction('threshold.failureRate', t.failureRate, false),
    minimumCalls: positiveInteger('threshold.minimumCalls', t.minimumCalls ?? 1),
    within,
  }
}

function batch(value: unknown): BatchOptions | undefined {
  if (value === undefined || value === false) return undefined
  if (typeof value !== 'object' || value === null) throw new ConfigurationError('batch', 'must be { interval, maxSize } or false', value)
  const b = value as Record<string, unknown>
  return { interval: positive('batch.interval', b.interval), maxSize: positiveInteger('batch.maxSize', b.maxSize) }
}

function hooks(value: unknown): CircuitHooks {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null) throw new ConfigurationError('on', 'must be an object of hook functions', value)
  for (const [key, hook] of Object.entries(value)) {
    if (!(HOOKS as readonly string[]).includes(key)) {
      throw new ConfigurationError(`on.${key}`, `is not a hook (known: ${HOOKS.join(', ')})`, hook)
    }
    if (hook !== undefined) fn(`on.${key}`, hook)
  }
  return value as CircuitHooks
}

/** Checks that a value looks like a `Storage`; names what is missing. */
export function assertStorage(value: unknown, option = 'storage'): asserts value is Storage {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError(option, 'is required: pass a Storage or call configure({ defaultStorage })', value)
  }
  const missing = STORAGE_METHODS.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
  if (missing.length > 0 || typeof (value as Storage).capabilities !== 'object') {
    throw new ConfigurationError(option, `must implement Storage (missing: ${missing.join(', ') || 'capabilities'})`, value)
  }
}

/** Validates options and fills defaults (the Ruby gem's); throws `ConfigurationError` naming the option. */
export function resolveConfig(name: unknown, options: CircuitOptions): CircuitConfig {
  if (typeof name !== 'string' || name.length === 0) throw new ConfigurationError('name', 'must be a non-empty string', name)
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object', options)
  const o = options
  const failure = o.onStorageFailure ?? 'open'
  if (failure !== 'open' && failure !== 'throw') throw new ConfigurationError('onStorageFailure', "must be 'open' or 'throw'", failure)
  const ttl = o.stateCacheTtl ?? 0
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
    throw new ConfigurationError('stateCacheTtl', 'must be a number of milliseconds >= 0', ttl)
  }
  return {
    threshold: threshold(o.threshold ?? { failures: 5, within: 60_000 }),
    resetAfter: positive('resetAfter', o.resetAfter ?? 60_000),
    jitter: fraction('jitter', o.jitter ?? 0.25, true),
    halfOpenCalls: positiveInteger('halfOpenCalls', o.halfOpenCalls ?? 1),
    successThreshold: positiveInteger('successThreshold', o.successThreshold ?? 1),
    timeout: o.timeout === undefined ? undefined : positive('timeout', o.timeout),
    maxConcurrent: o.maxConcurrent === undefined ? undefined : positiveInteger('maxConcurrent', o.maxConcurrent),
    isFailure: o.isFailure === undefined ? undefined : fn('isFailure', o.isFailure),
    fallback: o.fallback,
    stateCacheTtl: ttl,
    batch: batch(o.batch),
    on: hooks(o.on),
    clock: o.clock === undefined ? Date.now : fn('clock', o.clock),
    onStorageFailure: failure,
  }
}

/** Plain-JSON view of a config for snapshots (functions and storage left out). */
export function configToJSON(config: CircuitConfig): Record<string, unknown> {
  return {
    threshold: { ...config.threshold },
    resetAfter: config.resetAfter,
    jitter: config.jitter,
    halfOpenCalls: config.halfOpenCalls,
    successThreshold: config.successThreshold,
    timeout: config.timeout ?? null,
    maxConcurrent: config.maxConcurrent ?? null,
    stateCacheTtl: config.stateCacheTtl,
    batch: config.batch ? { ...config.batch } : null,
    onStorageFailure: config.onStorageFailure,
  }
}
