import type { Protected } from './options.js'

/** Carries the reason of a call its caller cancelled, so the circuit counts nothing for it. */
export class Cancelled {
  constructor(readonly reason: unknown) {}
}

/**
 * Runs `fns` as one call: the first starts at once, each next one `delay` ms later — or at once
 * when every attempt started so far has failed. The first success wins and every other attempt
 * is aborted through its own signal; when all have failed, the last error is the answer. When
 * `parent` aborts (the call's timeout, or its caller), every attempt is aborted too and the answer
 * is the parent's reason (a caller's cancellation wrapped in {@link Cancelled}).
 *
 * One timer per pending stagger, and only for hedged calls (`hedge`, `callAny`).
 */
export function runAttempts<R>(fns: readonly Protected<R>[], delay: number, parent: AbortSignal, caller: AbortSignal | undefined): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const controllers: AbortController[] = []
    let failed = 0
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined

    const finish = (): void => {
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      parent.removeEventListener('abort', onAbort)
      caller?.removeEventListener('abort', onCancel)
    }
    const abortAll = (reason: unknown, except = -1): void => {
      controllers.forEach((controller, i) => {
        if (i !== except && !controller.signal.aborted) controller.abort(reason)
      })
    }
    const onAbort = (): void => {
      if (settled) return
      finish()
      abortAll(parent.reason)
      reject(parent.reason)
    }
    const onCancel = (): void => {
      if (settled) return
      finish()
      abortAll(caller!.reason)
      reject(new Cancelled(caller!.reason))
    }
    const start = (): void => {
      if (settled || controllers.length === fns.length) return
      const controller = new AbortController()
      const index = controllers.push(controller) - 1
      if (timer !== undefined) clearTimeout(timer)
      timer = controllers.length < fns.length ? setTimeout(start, delay) : undefined
      let answer: PromiseLike<R>
      try {
        answer = Promise.resolve(fns[index]!(controller.signal))
      } catch (error) {
        answer = Promise.reject(error)
      }
      answer.then(
        (value) => {
          if (settled) return
          finish()
          abortAll(new Error('another attempt of this hedged call succeeded first'), index)
          resolve(value)
        },
        (error: unknown) => {
          if (settled) return
          if (++failed === fns.length) {
            finish()
            reject(error)
          } else if (failed === controllers.length) start()
        },
      )
    }

    if (parent.aborted) return onAbort()
    if (caller?.aborted) return onCancel()
    parent.addEventListener('abort', onAbort, { once: true })
    caller?.addEventListener('abort', onCancel, { once: true })
    start()
  })
}

/**
 * The job of a hedged, raced or cancellable call: runs `fns` as {@link runAttempts} does, under
 * the signal the circuit passes (its timeout) and the caller's.
 */
export function attemptsJob<R>(fns: readonly Protected<R>[], delay: number, caller: AbortSignal | undefined): Protected<R> {
  return (parent) => runAttempts(fns, delay, parent, caller)
}
