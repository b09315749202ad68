import type { Fallback, FallbackContext } from './options.js'

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
