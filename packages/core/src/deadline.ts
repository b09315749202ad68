/**
 * Settles as `pending` does, unless `timeoutMs` pass first: then it rejects with what `expire`
 * answers (which may also abort the work, e.g. through an AbortController). The timer is cleared
 * as soon as `pending` settles. An answer that arrives after the deadline is absorbed — a late
 * rejection never becomes an unhandled one — and `onLate` hears of a late success (a write that
 * landed after all). For deadlines on calls and on storage operations; not for synchronous answers,
 * which never need a timer.
 */
export function withDeadline<T>(
  pending: PromiseLike<T>,
  timeoutMs: number,
  expire: () => unknown,
  onLate?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let expired = false
    // A deadline cannot be a timestamp comparison: nothing else runs when it passes.
    const timer = setTimeout(() => {
      expired = true
      reject(expire())
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
