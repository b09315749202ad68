import type { Storage } from '@breaker/core'

/** The contract methods a chain routes to its backends; `subscribe`, `ready`, `retain` and `close` never get a signal. */
export const ROUTED_METHODS = [
  'getStatus',
  'setStatus',
  'compareAndSetStatus',
  'recordSuccess',
  'recordFailure',
  'successCount',
  'failureCount',
  'record',
  'recordBatch',
  'acquireProbe',
  'eventLog',
  'clear',
  'clearAll',
] as const

const ROUTED = new Set<PropertyKey>(ROUTED_METHODS)

/**
 * The backend as seen by one operation that may be abandoned: every contract method is called
 * with `signal` as one extra, last argument — what a backend declaring `capabilities.signal`
 * accepts. Emulations built on the required methods (`record` from a write and two counts) pass
 * it on to each of their calls, since they call through this view. Only backends that declared
 * `signal` get a view (and an `AbortController`); the others are called with exactly the
 * contract's arguments.
 */
export function withSignal(storage: Storage, signal: AbortSignal): Storage {
  return new Proxy(storage, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target)
      if (typeof value !== 'function' || !ROUTED.has(key)) return value
      return (...args: unknown[]) => (value as (...a: unknown[]) => unknown).call(target, ...args, signal)
    },
  })
}
