import { StorageTimeoutError, isThenable } from '@breaker/core'
import type { OperationSource } from '@breaker/core/kit'
import type { MaybePromise, ProbeLease } from '@breaker/core'
import type { Backend } from './config.js'

/**
 * Bounds a backend's pending answer by its deadline, like the kit's `guardDeadline` (same
 * `StorageTimeoutError`, with `lateByMs`), with one allowance: when the deadline passes, the
 * verdict waits for one more turn of the event loop.
 *
 * Why: a deadline timer starts when the operation is handed to the client, not when the request
 * leaves the process, and timers run before the event loop reads its sockets. Under load (or
 * after a stall) the answer is often already there, read from the socket in the same turn just
 * after the timer fired. Calling that a miss is what made a busy but healthy primary look
 * dead. So the timeout is final only if no answer arrived by the check phase (`setImmediate`);
 * an answer that did is taken as the operation's answer. `controller` (if any) is aborted only
 * then, and `onLate` hears only of answers that came after that.
 *
 * A miss rejects with a `StorageTimeoutError` whose `stalled` says whether this process itself
 * was blocked past the deadline (then the miss is not the backend's fault). One promise and one
 * timer per operation, as with the kit's guard: this is the per-call path of every chain whose
 * primary answers with promises.
 */
export function bounded<T>(
  pending: PromiseLike<T>,
  timeoutMs: number,
  source: OperationSource,
  controller: AbortController | undefined,
  onLate: ((value: T) => void) | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // 0: waiting; 1: the timer fired, one more turn to answer; 2: missed; 3: answered.
    let phase = 0
    const due = performance.now() + timeoutMs
    const timer = setTimeout(() => {
      phase = 1
      const lateByMs = Math.max(0, performance.now() - due)
      setImmediate(() => {
        if (phase !== 1) return
        phase = 2
        const error = new StorageTimeoutError(source.storage, source.operation, timeoutMs, source.circuit, { lateByMs })
        controller?.abort(error)
        reject(error)
      })
    }, timeoutMs)
    pending.then(
      (value) => {
        if (phase === 2) return onLate?.(value)
        if (phase === 0) clearTimeout(timer)
        phase = 3
        resolve(value)
      },
      (error: unknown) => {
        // A rejection after the miss is absorbed: nobody waits for it any more.
        if (phase === 2) return
        if (phase === 0) clearTimeout(timer)
        phase = 3
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
    return bounded(value, backend.timeoutMs, { storage: backend.name, operation: 'release', circuit }, undefined, undefined)
  }
  return { id: lease.id, expiresAt: lease.expiresAt, release }
}
