/**
 * Settles as `pending` does, unless `timeoutMs` pass first: then it rejects with what `expire`
 * answers (which may also abort the work, e.g. through an AbortController). `expire` is told
 * how late the timer fired (ms, on the monotonic clock): a timer that fired late by more than
 * the deadline means the process itself stalled, which is not the awaited party's fault. The timer is cleared
 * as soon as `pending` settles. An answer that arrives after the deadline is absorbed — a late
 * rejection never becomes an unhandled one — and `onLate` hears of a late success (a write that
 * landed after all). For deadlines on calls and on storage operations; not for synchronous answers,
 * which never need a timer.
 */
export function withDeadline<T>(
  pending: PromiseLike<T>,
  timeoutMs: number,
  expire: (lateByMs: number) => unknown,
  onLate?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false
    const due = performance.now() + timeoutMs
    // A deadline cannot be a timestamp comparison: nothing else runs when it passes.
    const timer = setTimeout(() => {
      expired = true
      reject(expire(Math.max(0, performance.now() - due)))
    }, timeoutMs)
    pending.then(
      (value) => {
        if (!expired) {
          clearTimeout(timer)
          resolve(value)
        } else onLate?.(value)
      },
      (error: unknown) => {
        if (expired) return
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
