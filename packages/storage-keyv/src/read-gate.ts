/**
 * Coalesces reads per key: at most one read in flight and one queued behind it, which every
 * caller arriving meanwhile joins. The queued read starts after the in-flight one ends, so it
 * sees every write its callers finished before asking — under load, hundreds of concurrent
 * callers share two store reads instead of each issuing its own.
 */
export class ReadGate<T> {
  private readonly gates = new Map<string, { inflight?: Promise<T> | undefined; queued?: Promise<T> | undefined }>()

  /** Answers a read of `key` that starts no earlier than now, sharing one with other callers when it can. */
  read(key: string, start: () => Promise<T>): Promise<T> {
    let gate = this.gates.get(key)
    if (!gate) {
      gate = {}
      this.gates.set(key, gate)
    }
    const current = gate
    const launch = (): Promise<T> => {
      const reading = start().finally(() => {
        current.inflight = undefined
        if (!current.queued && this.gates.get(key) === current) this.gates.delete(key)
      })
      current.inflight = reading
      return reading
    }
    if (current.queued) return current.queued
    if (!current.inflight) return launch()
    const settled = current.inflight.then(
      () => undefined,
      () => undefined,
    )
    const queued = settled.then(() => {
      current.queued = undefined
      return launch()
    })
    current.queued = queued
    return queued
  }
}
