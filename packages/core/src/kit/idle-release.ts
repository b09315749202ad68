import { Retainers } from './retainers.js'

/**
 * Forgets circuits nobody uses: counts which names live circuits retain (`storage.retain`, called
 * by core at construction), and drops a released name's entry from `entries` once `needed` says
 * nothing in it is still needed. An entry still needed when released is re-checked later, two at
 * a time whenever a new entry is created — amortised O(1), and no timer.
 */
export class IdleRelease<E> {
  readonly #retainers = new Retainers()
  // Names released while their entry still held something; re-checked a few at a time.
  readonly #idle = new Set<string>()

  /**
   * @param entries the storage's entries by circuit name
   * @param needed whether an entry still holds something (counts in a window, a lease, an opening)
   */
  constructor(
    private readonly entries: Map<string, E>,
    private readonly needed: (entry: E) => boolean,
  ) {}

  /** Marks `circuit` in use; answers the release (idempotent), which drops the entry once it is idle. */
  retain(circuit: string): () => void {
    const release = this.#retainers.retain(circuit)
    return () => {
      release()
      this.#releaseIfIdle(circuit)
    }
  }

  /** True while some live circuit retains `circuit`. */
  retained(circuit: string): boolean {
    return this.#retainers.has(circuit)
  }

  /** Call after creating an entry: re-checks two released ones. */
  created(): void {
    if (this.#idle.size === 0) return
    let budget = 2
    for (const circuit of this.#idle) {
      if (budget-- === 0) break
      this.#releaseIfIdle(circuit)
    }
  }

  /** Call when every entry was dropped (`clearAll`). */
  clear(): void {
    this.#idle.clear()
  }

  #releaseIfIdle(circuit: string): void {
    this.#idle.delete(circuit)
    const entry = this.entries.get(circuit)
    if (entry === undefined || this.#retainers.has(circuit)) return
    // Still needed: to the back of the queue, so the sweep reaches older releases first.
    if (this.needed(entry)) this.#idle.add(circuit)
    else this.entries.delete(circuit)
  }
}
