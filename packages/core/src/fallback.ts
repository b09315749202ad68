import { ConfigurationError } from './errors.js'
import type { Fallback, FallbackContext, FallbackEntry, FallbackFn } from './options.js'

/**
 * Serves a fallback for `error`: a function is called with `(error, context)`, a static value is
 * returned as is, an array is tried in order. When every entry throws, the last error is thrown.
 */
export async function runFallback<T>(fallback: Fallback<T>, error: unknown, context: FallbackContext): Promise<T> {
  const entries: ReadonlyArray<unknown> = Array.isArray(fallback) ? fallback : [fallback]
  let last: unknown = error
  for (const entry of entries) {
    if (typeof entry !== 'function') return entry as T
    try {
      return await (entry as (e: unknown, c: FallbackContext) => T | PromiseLike<T>)(error, context)
    } catch (thrown) {
      last = thrown
    }
  }
  throw last
}

/**
 * Fallbacks run all at once: the first to succeed is served. When every one fails, the answer
 * is an `AggregateError` holding their errors in order. A static value succeeds at once. Use as
 * `fallback: parallel(fromCache, fromReplica)` (the Ruby gem BreakerMachines' parallel fallbacks).
 */
export function parallel<T>(...fallbacks: ReadonlyArray<FallbackEntry<T>>): FallbackFn<T> {
  if (fallbacks.length === 0) throw new ConfigurationError('parallel', 'needs at least one fallback', fallbacks)
  return (error, context) =>
    Promise.any(
      fallbacks.map((entry) =>
        typeof entry === 'function' ? new Promise<T>((settle) => settle((entry as FallbackFn<T>)(error, context))) : Promise.resolve(entry as T),
      ),
    ).catch((aggregate: AggregateError) => {
      throw new AggregateError(aggregate.errors, `[@breaker/core] every parallel fallback of circuit '${context.circuit}' failed`)
    })
}
