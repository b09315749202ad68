import type { StatusListener, StatusRecord, StorageNotice } from './types.js'

/**
 * The subscribers of a storage that pushes its status writes and resync notices: add, remove,
 * and tell them all. A listener that throws cannot stop the others, nor the write that already happened.
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
    if (this.#listeners.size > 0) this.#send({ circuit, record })
  }

  /**
   * Tells every listener that pushes may have been missed (a reconnect, a moved subscriber),
   * or — with `circuit` — that this one circuit's status was removed: they re-read storage.
   */
  resync(circuit?: string): void {
    if (this.#listeners.size > 0) this.#send(circuit === undefined ? { resync: true } : { resync: true, circuit })
  }

  #send(notice: StorageNotice): void {
    for (const listener of this.#listeners) {
      try {
        listener(notice)
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
