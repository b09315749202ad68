import { isThenable } from './maybe.js'
import type { MaybePromise } from './types.js'

/**
 * Writes a circuit started and did not wait for (a success being recorded while the caller
 * already has its answer), so `flush()` and `dispose()` can wait for them.
 */
export class PendingWrites {
  // Created on the first asynchronous write: a circuit on in-process storage never needs it.
  #pending: Set<Promise<unknown>> | undefined

  /** Keeps `value` until it settles; a synchronous value is already done. It must never reject. */
  track(value: MaybePromise<unknown>): void {
    if (!isThenable(value)) return
    const pending = (this.#pending ??= new Set())
    pending.add(value)
    value.then(() => pending.delete(value))
  }

  /** Resolves once every tracked write, including ones started meanwhile, has settled. */
  async settled(): Promise<void> {
    const pending = this.#pending
    while (pending && pending.size > 0) await Promise.all(pending)
  }
}
