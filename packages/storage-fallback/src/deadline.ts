import { isStorageTimeoutError, isThenable } from '@breaker/core'
import { guardDeadline } from '@breaker/core/kit'
import type { OperationSource } from '@breaker/core/kit'
import type { MaybePromise, ProbeLease } from '@breaker/core'
import type { Backend } from './config.js'

/**
 * Bounds a backend's pending answer by its deadline (the kit's `guardDeadline`), with one
 * allowance: when the deadline passes, the verdict waits for one more turn of the event loop.
 *
 * Why: a deadline timer starts when the operation is handed to the client, not when the request
 * leaves the process, and timers run before the event loop reads its sockets. Under load (or
 * after a stall) the answer is often already there, read from the socket in the same turn just
 * after the timer fired. Calling that a miss is what made a busy but healthy primary look
 * dead. So the timeout is final only if no answer arrived by the check phase (`setImmediate`);
 * an answer that did is taken as the operation's answer. `controller` (if any) is aborted only
 * then, and `onLate` hears only of answers that came after that.
 *
 * A miss still rejects with the kit's `StorageTimeoutError`, whose `stalled` says whether this
 * process itself was blocked past the deadline (then the miss is not the backend's fault).
 */
export function bounded<T>(
  pending: PromiseLike<T>,
  timeoutMs: number,
  source: OperationSource,
  controller: AbortController | undefined,
  onLate: ((value: T) => void) | undefined,
): Promise<T> {
  // `given`: the answer that arrived after the timer fired; `final`: the verdict is in.
  const late = { given: false, value: undefined as T, final: false }
  const guarded = guardDeadline(pending as Promise<T>, timeoutMs, source, (value) => {
    if (late.final) onLate?.(value)
    else {
      late.given = true
      late.value = value
    }
  }) as Promise<T>
  return guarded.then(undefined, (error: unknown) => {
    if (!isStorageTimeoutError(error)) throw error
    return new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        late.final = true
        if (late.given) return resolve(late.value)
        controller?.abort(error)
        reject(error)
      })
    })
  })
}

/** A permit's `release` is a storage call too: it gets the backend's deadline. */
export function guardLease(backend: Backend, circuit: string, lease: ProbeLease): ProbeLease {
  const release = (): MaybePromise<void> => {
    const value = lease.release()
    if (!isThenable(value)) return value
    return bounded(value, backend.timeoutMs, { storage: backend.name, operation: 'release', circuit }, undefined, undefined)
  }
  return { id: lease.id, expiresAt: lease.expiresAt, release }
}
