import { StorageTimeoutError, isThenable } from '@breaker/core'
import type { MaybePromise, ProbeLease } from '@breaker/core'
import type { Backend } from './config.js'

/** What a deadline needs to know to name the abandoned operation. */
export interface DeadlineTarget {
  /** Backend name. */
  readonly backend: string
  /** Contract method. */
  readonly operation: string
  /** Circuit concerned, when there is one. */
  readonly circuit: string | undefined
  /** The deadline (ms). */
  readonly timeoutMs: number
}

/**
 * Races a backend's pending answer against its deadline. Only called once a backend has
 * answered with a promise — a synchronous answer never gets here, so it never costs a timer.
 * The timer is cleared as soon as the answer settles; when the deadline wins, `controller`
 * (if any) is aborted with the `StorageTimeoutError`, the answer that arrives later is ignored
 * (its rejection is handled, never "unhandled"), and `onLate` is told about a late success so
 * the chain can account for a write that landed after all.
 */
export function withDeadline<T>(
  pending: PromiseLike<T>,
  target: DeadlineTarget,
  controller: AbortController | undefined,
  onLate: ((value: T) => void) | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false
    const timer = setTimeout(() => {
      expired = true
      const error = new StorageTimeoutError(target.backend, target.operation, target.timeoutMs, target.circuit)
      controller?.abort(error)
      reject(error)
    }, target.timeoutMs)
    pending.then(
      (value) => {
        if (expired) {
          onLate?.(value)
          return
        }
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        if (expired) return
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/** A permit's `release` is a storage call too: it gets the backend's deadline. */
export function guardLease(backend: Backend, circuit: string, lease: ProbeLease): ProbeLease {
  const release = (): MaybePromise<void> => {
    const value = lease.release()
    if (!isThenable(value)) return value
    const target = { backend: backend.name, operation: 'release', circuit, timeoutMs: backend.timeoutMs }
    return withDeadline(value, target, undefined, undefined)
  }
  return { id: lease.id, expiresAt: lease.expiresAt, release }
}
