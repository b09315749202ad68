import { withDeadline } from './deadline.js'
import { CircuitTimeoutError } from './errors.js'

/**
 * Runs `fn` with a deadline: at `timeoutMs` its signal is aborted (reason: the timeout error)
 * and the answer rejects with `CircuitTimeoutError`, without waiting for `fn` to notice.
 */
export function runWithTimeout<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, timeoutMs: number, circuit: string): Promise<R> {
  const controller = new AbortController()
  let answer: PromiseLike<R>
  try {
    answer = Promise.resolve(fn(controller.signal))
  } catch (error) {
    answer = Promise.reject(error)
  }
  return withDeadline(answer, timeoutMs, () => {
    const error = new CircuitTimeoutError(circuit, timeoutMs)
    controller.abort(error)
    return error
  })
}
