import type { StatusListener, StatusRecord } from './types.js'

/**
 * The subscribers of a storage that pushes its own status writes: add, remove, and tell them
 * all. A listener that throws cannot stop the others, nor the write that already happened.
 */
export class StatusListeners {
  readonly #listeners = new Set<StatusListener>()

  /** How many listeners there are. */
  get size(): number {
    return this.#listeners.size
  }

  /** Adds a listener; answers the function that removes it (a storage's `subscribe`). */
  add(listener: StatusListener): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Tells every listener that `record` was written for `circuit`. */
  notify(circuit: string, record: StatusRecord): void {
    if (this.#listeners.size === 0) return
    for (const listener of this.#listeners) {
      try {
        listener({ circuit, record })
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
