import { withDeadline } from '../deadline.js'
import { StorageError, StorageTimeoutError } from '../errors.js'
import { isThenable } from '../maybe.js'
import type { MaybePromise } from '../types.js'

/** Which operation a deadline or an error belongs to. */
export interface OperationSource {
  /** Backend name (`storage.name`). */
  readonly storage: string
  /** Contract method, e.g. `'getStatus'`. */
  readonly operation: string
  /** Circuit concerned, when there is one. */
  readonly circuit?: string | undefined
}

/**
 * Bounds a storage answer by `timeoutMs`: a synchronous answer is returned as is (no timer);
 * a promise that has not settled by then rejects with a `StorageTimeoutError` carrying how late
 * the timer fired (`stalled` when the process itself was blocked). A late rejection is absorbed;
 * `onLate` hears of a late success (a write that landed after all).
 */
export function guardDeadline<T>(
  answer: MaybePromise<T>,
  timeoutMs: number,
  source: OperationSource,
  onLate?: (value: T) => void,
): MaybePromise<T> {
  if (!isThenable(answer)) return answer
  return withDeadline(
    answer,
    timeoutMs,
    (lateByMs) => new StorageTimeoutError(source.storage, source.operation, timeoutMs, source.circuit, { lateByMs }),
    onLate,
  )
}

/** Wraps anything a backend threw as a `StorageError` naming the storage, operation and circuit. */
export function toStorageError(error: unknown, source: OperationSource): StorageError {
  return StorageError.from(error, source.storage, source.operation, source.circuit)
}
