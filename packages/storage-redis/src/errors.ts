import { StorageError, StorageTimeoutError, isStorageError, withDeadline } from '@breaker/core'

/** Backend name used in every error and event of this package. */
export const STORAGE_NAME = 'redis'

// ioredis reports its own `commandTimeout` with this message (Command.js).
const IOREDIS_TIMEOUT = 'Command timed out'

/**
 * Wraps whatever a Redis operation threw as a `StorageError` (or a `StorageTimeoutError`
 * for ioredis's own command timeout), keeping the original as `cause`.
 */
export function toStorageError(error: unknown, operation: string, circuit?: string, timeoutMs?: number): StorageError {
  if (isStorageError(error)) return error
  if (error instanceof Error && error.message === IOREDIS_TIMEOUT) {
    return timeoutError(operation, timeoutMs ?? 0, circuit, error)
  }
  return StorageError.from(error, STORAGE_NAME, operation, circuit)
}

/** A `StorageTimeoutError` of this storage, carrying `cause` when there is one. */
export function timeoutError(operation: string, timeoutMs: number, circuit: string | undefined, cause?: unknown): StorageTimeoutError {
  return new StorageTimeoutError(STORAGE_NAME, operation, timeoutMs, circuit, cause === undefined ? undefined : { cause })
}

/**
 * Settles with `work`, or rejects with a `StorageTimeoutError` once `timeoutMs` ms pass
 * (0 = no deadline). The abandoned command's late rejection is observed, so it can never
 * become an unhandled rejection.
 */
export function guard<T>(work: () => Promise<T>, operation: string, circuit: string | undefined, timeoutMs: number): Promise<T> {
  let pending: Promise<T>
  try {
    pending = work()
  } catch (error) {
    return Promise.reject(toStorageError(error, operation, circuit, timeoutMs))
  }
  const wrapped = pending.then(undefined, (error: unknown) => {
    throw toStorageError(error, operation, circuit, timeoutMs)
  })
  if (timeoutMs <= 0) return wrapped
  return withDeadline(wrapped, timeoutMs, () =>
    timeoutError(operation, timeoutMs, circuit, new Error(`no answer from Redis within ${timeoutMs} ms`)),
  )
}
