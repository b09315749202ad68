import type { ProbeLease } from './types.js'

/**
 * Half-open probe permits of one circuit, kept in process: each lapses at its expiry, so a
 * holder that never releases cannot wedge the circuit. For storages with the `leases`
 * capability that keep state in process (memory, bucket); shared backends keep their own.
 */
export class LeaseTable {
  // lease id → expiresAt (epoch ms)
  readonly #held = new Map<string, number>()

  /** Permits held and not yet lapsed at the last `acquire`. */
  get size(): number {
    return this.#held.size
  }

  /** Hands out a permit if fewer than `max` unexpired ones are held at `now` (epoch ms); it lapses after `ttlMs`. */
  acquire(id: string, now: number, max: number, ttlMs: number): ProbeLease | null {
    const held = this.#held
    if (this.held(now) >= max) return null
    const expiresAt = now + ttlMs
    held.set(id, expiresAt)
    return {
      id,
      expiresAt,
      // Deleting by id makes a second release, or a release after lapsing, a no-op.
      release: () => {
        held.delete(id)
      },
    }
  }

  /** Permits still held at `now` (epoch ms); lapsed ones are dropped. */
  held(now: number): number {
    for (const [lease, expiresAt] of this.#held) if (expiresAt <= now) this.#held.delete(lease)
    return this.#held.size
  }

  /** Drops every permit. */
  clear(): void {
    this.#held.clear()
  }
}
