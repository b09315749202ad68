import { StorageError, StorageTimeoutError, isStorageError, withDeadline } from '@breaker/core'

/** Backend name used in every error and event of this package. */
export const STORAGE_NAME = 'keyv'

/** Wraps whatever a Keyv operation threw as a `StorageError`, keeping the original as `cause`. */
export function toStorageError(error: unknown, operation: string, circuit?: string): StorageError {
  return isStorageError(error) ? error : StorageError.from(error, STORAGE_NAME, operation, circuit)
}

/**
 * Settles with `work`, or rejects with a `StorageTimeoutError` once `timeoutMs` ms pass
 * (0 = no deadline). The abandoned operation's late rejection is observed, so it never
 * becomes an unhandled rejection.
 */
export function guard<T>(work: () => Promise<T>, operation: string, circuit: string | undefined, timeoutMs: number): Promise<T> {
  let pending: Promise<T>
  try {
    pending = work()
  } catch (error) {
    return Promise.reject(toStorageError(error, operation, circuit))
  }
  const wrapped = pending.then(undefined, (error: unknown) => {
    throw toStorageError(error, operation, circuit)
  })
  if (timeoutMs <= 0) return wrapped
  return withDeadline(
    wrapped,
    timeoutMs,
    () =>
      new StorageTimeoutError(STORAGE_NAME, operation, timeoutMs, circuit, {
        cause: new Error(`no answer from the Keyv store within ${timeoutMs} ms`),
      }),
  )
}
