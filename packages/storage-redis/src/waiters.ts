import type { StorageError } from '@breaker/core'
import { toStorageError } from './errors.js'

/** One caller waiting for its part of a batch. */
export interface Waiter<T> {
  readonly operation: string
  readonly since: number
  readonly resolve: (value: T) => void
  readonly reject: (error: StorageError) => void
  done: boolean
}

/** A new waiter for `operation`, timed from now. */
export function waiter<T>(operation: string, resolve: (value: T) => void, reject: (error: StorageError) => void): Waiter<T> {
  return { operation, since: performance.now(), resolve, reject, done: false }
}

/** Answers a waiter once; a waiter already answered (timed out) is left alone. */
export function settle<T>(w: Waiter<T>, value: T): void {
  if (w.done) return
  w.done = true
  w.resolve(value)
}

/** Rejects a waiter once with `error` as a `StorageError` of its operation and circuit. */
export function fail(w: Waiter<never> | Waiter<unknown>, error: unknown, circuit: string): void {
  if (w.done) return
  w.done = true
  w.reject(toStorageError(error, w.operation, circuit))
}

/** Rejects waiters with the error text a script answered for their operation. */
export function rejectAll(waiters: ReadonlyArray<Waiter<never> | Waiter<unknown>>, circuit: string, message: unknown): void {
  const error = new Error(typeof message === 'string' ? message : `unexpected script answer: ${String(message)}`)
  for (const w of waiters) fail(w, error, circuit)
}
