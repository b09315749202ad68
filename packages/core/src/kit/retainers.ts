/**
 * Which circuit names are in use by a live circuit, counted, for a storage's `retain`. An
 * in-process storage keeps one and releases an entry only when its name is not retained and
 * nothing in it is still needed, so services that create circuits per tenant or per host do not
 * grow without bound.
 */
export class Retainers {
  readonly #held = new Map<string, number>()

  /** Marks `circuit` in use; answers the release (idempotent). */
  retain(circuit: string): () => void {
    this.#held.set(circuit, (this.#held.get(circuit) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.#held.get(circuit) ?? 1) - 1
      if (left > 0) this.#held.set(circuit, left)
      else this.#held.delete(circuit)
    }
  }

  /** True while some live circuit uses the name. */
  has(circuit: string): boolean {
    return this.#held.has(circuit)
  }

  /** How many names are retained. */
  get size(): number {
    return this.#held.size
  }
}
