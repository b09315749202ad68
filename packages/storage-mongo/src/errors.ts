import { StorageError, StorageTimeoutError } from '@breaker/core'
import { toStorageError } from '@breaker/core/kit'

/** MongoDB's duplicate-key error code: an insert (or upsert) met an existing unique key. */
export const DUPLICATE_KEY = 11000
/** MongoDB's TypeMismatch code, e.g. `$inc` on a counter that is not a number. */
export const TYPE_MISMATCH = 14

/** True when the driver reports a duplicate key. */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === DUPLICATE_KEY
}

/** True when the server refused an update because a field had the wrong type. */
export function isTypeMismatch(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === TYPE_MISMATCH
}

/**
 * Wraps a driver error for the contract: a client-side operation timeout (the driver's
 * `timeoutMS`, CSOT) becomes a `StorageTimeoutError`, anything else a `StorageError`; both keep
 * the driver's error as `cause`. Errors that already are storage errors pass through.
 */
export function wrapError(error: unknown, storage: string, operation: string, circuit: string | undefined, timeoutMs: number | undefined): StorageError {
  if ((error as { name?: unknown } | null)?.name === 'MongoOperationTimeoutError') {
    // The driver's error stays as the cause, for whoever debugs it.
    return new StorageTimeoutError(storage, operation, timeoutMs ?? 0, circuit, { cause: error })
  }
  return toStorageError(error, { storage, operation, circuit })
}

/** A contract method called with an argument it cannot use; thrown before any command is sent. */
export function argumentError(storage: string, operation: string, what: string, received: unknown, circuit?: string): StorageError {
  const shown = typeof received === 'string' ? JSON.stringify(received) : typeof received === 'object' ? safeJson(received) : String(received)
  return new StorageError(storage, operation, `[@breaker/storage-mongo] ${operation}: ${what}, got ${shown}`, { circuit })
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
