import { StorageTimeoutError, isThenable, withDeadline } from '@breaker/core'
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
 * Races a backend's pending answer against its deadline (core's `withDeadline`). Only called once
 * a backend has answered with a promise — a synchronous answer never gets here, so it never costs
 * a timer. When the deadline wins, `controller` (if any) is aborted with the `StorageTimeoutError`,
 * and `onLate` is told about a late success so the chain can account for a write that landed after all.
 */
export function backendDeadline<T>(
  pending: PromiseLike<T>,
  target: DeadlineTarget,
  controller: AbortController | undefined,
  onLate: ((value: T) => void) | undefined,
): Promise<T> {
  return withDeadline(
    pending,
    target.timeoutMs,
    () => {
      const error = new StorageTimeoutError(target.backend, target.operation, target.timeoutMs, target.circuit)
      controller?.abort(error)
      return error
    },
    onLate,
  )
}

/** A permit's `release` is a storage call too: it gets the backend's deadline. */
export function guardLease(backend: Backend, circuit: string, lease: ProbeLease): ProbeLease {
  const release = (): MaybePromise<void> => {
    const value = lease.release()
    if (!isThenable(value)) return value
    const target = { backend: backend.name, operation: 'release', circuit, timeoutMs: backend.timeoutMs }
    return backendDeadline(value, target, undefined, undefined)
  }
  return { id: lease.id, expiresAt: lease.expiresAt, release }
}
