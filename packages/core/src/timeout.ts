import { CircuitTimeoutError } from './errors.js'

/**
 * Runs `fn` with a deadline: at `timeoutMs` its signal is aborted (reason: the timeout error)
 * and the answer rejects with `CircuitTimeoutError`, without waiting for `fn` to notice. A late
 * answer or rejection of `fn` is absorbed, never left unhandled.
 */
export function runWithTimeout<R>(fn: (signal: AbortSignal) => R | PromiseLike<R>, timeoutMs: number, circuit: string): Promise<R> {
  const controller = new AbortController()
  return new Promise<R>((resolve, reject) => {
    // A deadline cannot be a timestamp comparison: nothing else runs when it passes.
    const timer = setTimeout(() => {
      const error = new CircuitTimeoutError(circuit, timeoutMs)
      controller.abort(error)
      reject(error)
    }, timeoutMs)
    let answer: PromiseLike<R>
    try {
      answer = Promise.resolve(fn(controller.signal))
    } catch (error) {
      answer = Promise.reject(error)
    }
    answer.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
