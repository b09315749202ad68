import { ConfigurationError } from './errors.js'
import { MAX_TIMER_MS } from './kit/numbers.js'
import { rejectUnknownKeys } from './option-keys.js'
import type { AbsoluteThreshold, BatchOptions, CircuitHooks, CircuitOptions, CircuitRef, Fallback, HedgeOptions, RateThreshold, ResetBackoff } from './options.js'
import type { Storage } from './storage.js'
import type { Clock } from './types.js'

/** A threshold after defaults: a rate threshold always says its `minimumCalls`. */
export type ResolvedThreshold = AbsoluteThreshold | (RateThreshold & { readonly minimumCalls: number })

/** A circuit's options after validation and defaults: every field present. */
export interface CircuitConfig {
  readonly threshold: ResolvedThreshold
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
  readonly storageTimeout: number
  readonly resetBackoff: ResetBackoff | undefined
  readonly hedge: HedgeOptions | undefined
  readonly dependsOn: readonly CircuitRef[] | undefined
  readonly cascadesTo: readonly CircuitRef[] | undefined
}

/** Every key `CircuitOptions` knows. */
const OPTIONS = [
  'storage',
  'threshold',
  'resetAfter',
  'jitter',
  'halfOpenCalls',
  'successThreshold',
  'timeout',
  'maxConcurrent',
  'isFailure',
  'fallback',
  'stateCacheTtl',
  'batch',
  'on',
  'clock',
  'registry',
  'onStorageFailure',
  'storageTimeout',
  'resetBackoff',
  'hedge',
  'dependsOn',
  'cascadesTo',
] as const

/** `minimumCalls` of a rate threshold when none is given: the Ruby gem's default. */
export const DEFAULT_MINIMUM_CALLS = 5

const HOOKS = ['open', 'close', 'halfOpen', 'reject', 'stateChange', 'beforeTransition', 'storageError'] as const
const STORAGE_METHODS = ['getStatus', 'setStatus', 'recordSuccess', 'recordFailure', 'successCount', 'failureCount', 'clear', 'clearAll'] as const

/** A duration in ms: positive (or ≥ 0 with `allowZero`) and within what Node's timers honour. */
function milliseconds(option: string, value: unknown, allowZero = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0)
  if (!ok) throw new ConfigurationError(option, `must be a ${allowZero ? 'number of milliseconds >= 0' : 'positive number of milliseconds'}`, value)
  // Node turns a longer timer into 1 ms, so a huge deadline would fire at once.
  if (value > MAX_TIMER_MS) throw new ConfigurationError(option, `must be at most ${MAX_TIMER_MS} ms (about 24.8 days)`, value)
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

function threshold(value: unknown): ResolvedThreshold {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError('threshold', 'must be { failures, within } or { failureRate, minimumCalls, within }', value)
  }
  const t = value as Record<string, unknown>
  if (('failures' in t) === ('failureRate' in t)) {
    throw new ConfigurationError('threshold', 'must be { failures, within } or { failureRate, minimumCalls, within }', value)
  }
  rejectUnknownKeys(t, ['failures', 'within', 'failureRate', 'minimumCalls'], 'threshold.')
  const within = milliseconds('threshold.within', t.within)
  if ('failures' in t) {
    if ('minimumCalls' in t) throw new ConfigurationError('threshold.minimumCalls', 'goes with failureRate, not failures', t.minimumCalls)
    return { failures: positiveInteger('threshold.failures', t.failures), within }
  }
  return {
    failureRate: fraction('threshold.failureRate', t.failureRate, false),
    minimumCalls: positiveInteger('threshold.minimumCalls', t.minimumCalls ?? DEFAULT_MINIMUM_CALLS),
    within,
  }
}

function batch(value: unknown): BatchOptions | undefined {
  if (value === undefined || value === false) return undefined
  if (typeof value !== 'object' || value === null) throw new ConfigurationError('batch', 'must be { interval, maxSize } or false', value)
  const b = value as Record<string, unknown>
  rejectUnknownKeys(b, ['interval', 'maxSize'], 'batch.')
  return { interval: milliseconds('batch.interval', b.interval), maxSize: positiveInteger('batch.maxSize', b.maxSize) }
}

function resetBackoff(value: unknown, resetAfter: number): ResetBackoff | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) throw new ConfigurationError('resetBackoff', 'must be { multiplier, max }', value)
  const b = value as Record<string, unknown>
  rejectUnknownKeys(b, ['multiplier', 'max'], 'resetBackoff.')
  if (typeof b.multiplier !== 'number' || !Number.isFinite(b.multiplier) || b.multiplier <= 1) {
    throw new ConfigurationError('resetBackoff.multiplier', 'must be a number > 1', b.multiplier)
  }
  const max = milliseconds('resetBackoff.max', b.max)
  if (max < resetAfter) throw new ConfigurationError('resetBackoff.max', `must be at least resetAfter (${resetAfter} ms)`, max)
  return { multiplier: b.multiplier, max }
}

function hedge(value: unknown): HedgeOptions | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) throw new ConfigurationError('hedge', 'must be { delay, attempts }', value)
  const h = value as Record<string, unknown>
  rejectUnknownKeys(h, ['delay', 'attempts'], 'hedge.')
  const attempts = positiveInteger('hedge.attempts', h.attempts)
  if (attempts < 2) throw new ConfigurationError('hedge.attempts', 'must be at least 2 (the first run included)', attempts)
  return { delay: milliseconds('hedge.delay', h.delay, true), attempts }
}

function circuitRefs(option: string, value: unknown): readonly CircuitRef[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw new ConfigurationError(option, 'must be an array of circuits or circuit names', value)
  value.forEach((ref, i) => {
    const ok = (typeof ref === 'string' && ref.length > 0) || (typeof ref === 'object' && ref !== null && typeof (ref as { call?: unknown }).call === 'function')
    if (!ok) throw new ConfigurationError(`${option}[${i}]`, 'must be a Circuit or a circuit name', ref)
  })
  return value.length > 0 ? [...value] : undefined
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
export function resolveConfig(options: CircuitOptions): CircuitConfig {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', 'must be an object', options)
  rejectUnknownKeys(options, OPTIONS)
  const o = options
  const failure = o.onStorageFailure ?? 'open'
  if (failure !== 'open' && failure !== 'throw') throw new ConfigurationError('onStorageFailure', "must be 'open' or 'throw'", failure)
  const reset = milliseconds('resetAfter', o.resetAfter ?? 60_000)
  return {
    threshold: threshold(o.threshold ?? { failures: 5, within: 60_000 }),
    resetAfter: reset,
    jitter: fraction('jitter', o.jitter ?? 0.25, true),
    halfOpenCalls: positiveInteger('halfOpenCalls', o.halfOpenCalls ?? 1),
    successThreshold: positiveInteger('successThreshold', o.successThreshold ?? 1),
    timeout: o.timeout === undefined ? undefined : milliseconds('timeout', o.timeout),
    maxConcurrent: o.maxConcurrent === undefined ? undefined : positiveInteger('maxConcurrent', o.maxConcurrent),
    isFailure: o.isFailure === undefined ? undefined : fn('isFailure', o.isFailure),
    fallback: o.fallback,
    stateCacheTtl: milliseconds('stateCacheTtl', o.stateCacheTtl ?? 0, true),
    batch: batch(o.batch),
    on: hooks(o.on),
    clock: o.clock === undefined ? Date.now : fn('clock', o.clock),
    onStorageFailure: failure,
    storageTimeout: milliseconds('storageTimeout', o.storageTimeout ?? 1_000),
    resetBackoff: resetBackoff(o.resetBackoff, reset),
    hedge: hedge(o.hedge),
    dependsOn: circuitRefs('dependsOn', o.dependsOn),
    cascadesTo: circuitRefs('cascadesTo', o.cascadesTo),
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
    storageTimeout: config.storageTimeout,
    resetBackoff: config.resetBackoff ? { ...config.resetBackoff } : null,
    hedge: config.hedge ? { ...config.hedge } : null,
    dependsOn: config.dependsOn?.map((ref) => (typeof ref === 'string' ? ref : ref.name)) ?? [],
    cascadesTo: config.cascadesTo?.map((ref) => (typeof ref === 'string' ? ref : ref.name)) ?? [],
  }
}
