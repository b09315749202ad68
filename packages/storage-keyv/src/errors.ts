import { guardDeadline, toStorageError as wrapError } from '@breaker/core/kit'
import type { StorageError } from '@breaker/core'

/** Backend name used in every error and event of this package. */
export const STORAGE_NAME = 'keyv'

/** Wraps whatever a Keyv operation threw as a `StorageError`, keeping the original as `cause`. */
export function toStorageError(error: unknown, operation: string, circuit?: string): StorageError {
  return wrapError(error, { storage: STORAGE_NAME, operation, circuit })
}

/**
 * Settles with `work`, its failure wrapped as a `StorageError`, or rejects with a
 * `StorageTimeoutError` once `timeoutMs` ms pass (0 = no deadline). The kit's deadline guard
 * absorbs the abandoned operation's late rejection, so it never becomes an unhandled rejection.
 */
export function guard<T>(work: () => Promise<T>, operation: string, circuit: string | undefined, timeoutMs: number): Promise<T> {
  const source = { storage: STORAGE_NAME, operation, circuit }
  let pending: Promise<T>
  try {
    pending = work()
  } catch (error) {
    return Promise.reject(wrapError(error, source))
  }
  const wrapped = pending.then(undefined, (error: unknown) => {
    throw wrapError(error, source)
  })
  if (timeoutMs <= 0) return wrapped
  return guardDeadline(wrapped, timeoutMs, source) as Promise<T>
}
