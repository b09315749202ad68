import { isThenable } from './maybe.js'
import type { MaybePromise } from './types.js'

/**
 * Writes a circuit started and did not wait for (a success being recorded while the caller
 * already has its answer), so `flush()` and `dispose()` can wait for them.
 */
export class PendingWrites {
  readonly #pending = new Set<Promise<unknown>>()

  /** Keeps `value` until it settles; a synchronous value is already done. It must never reject. */
  track(value: MaybePromise<unknown>): void {
    if (!isThenable(value)) return
    this.#pending.add(value)
    value.then(() => this.#pending.delete(value))
  }

  /** Resolves once every tracked write, including ones started meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending)
  }
}
