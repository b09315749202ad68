import type { MaybePromise } from './types.js'

/** True when `value` is a promise or any thenable. */
export function isThenable<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/**
 * Applies `fn` to a value that may or may not be a promise, staying synchronous when it is
 * not: the helper that lets a circuit on in-process storage run without a single `await`.
 * (Not named `then`: a module exporting `then` turns its namespace into a thenable.)
 */
export function andThen<T, R>(value: MaybePromise<T>, fn: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? value.then(fn) : fn(value)
}

/**
 * Runs `fn` and hands any synchronous throw or asynchronous rejection to `onError`,
 * keeping a synchronous answer synchronous.
 */
export function attempt<T, R = T>(
  fn: () => MaybePromise<T>,
  onError: (error: unknown) => MaybePromise<R>,
): MaybePromise<T | R> {
  let value: MaybePromise<T>
  try {
    value = fn()
  } catch (error) {
    return onError(error)
  }
  return isThenable(value) ? value.then(undefined, onError) : value
}
