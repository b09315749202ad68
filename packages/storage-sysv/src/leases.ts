import { MAX_TIMER_MS } from '@breaker/core/kit'
import { L, LEASE_BYTES, S } from './layout.js'

/** A permit as stored: its id and the Int32 index of its cell's id word. */
export interface LeaseGrant {
  readonly id: number
  readonly cell: number
  /** Epoch ms. */
  readonly expiresAt: number
}

/**
 * Half-open probe permits of a slot: `leasesPerCircuit` cells of (id, expiresAt). Handing one
 * out counts the live cells, so it runs under the write lock; giving one back is a lock-free
 * compare-and-swap of the id to 0, which fails harmlessly when the permit lapsed and its cell
 * was handed to someone else (ids only grow).
 */
export class LeaseCells {
  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
    private readonly count: number,
  ) {}

  /** A permit if fewer than `max` are live at `now` (epoch ms); the caller holds the write lock. */
  acquire(slot: number, max: number, ttlMs: number, now: number): LeaseGrant | null {
    const { i32, f64 } = this
    let live = 0
    let free = -1
    for (let cell = 0; cell < this.count; cell++) {
      const at = slot + S.LEASES + cell * LEASE_BYTES
      const id = Atomics.load(i32, (at + L.ID) >> 2)
      const expiresAt = f64[(at + L.EXPIRES_AT) >> 3]!
      // A time further out than any lease can be (or NaN) is corrupt: the cell counts as free,
      // so a stray write cannot block probes forever.
      if (id !== 0 && expiresAt > now && expiresAt <= now + MAX_TIMER_MS) live++
      else if (free < 0) free = at
    }
    // More permits than cells cannot be honoured; the cell count is the ceiling (documented).
    if (live >= max || free < 0) return null
    const sequence = (slot + S.LEASE_SEQUENCE) >> 2
    // Ids stay positive (0 marks a free cell, whatever the stored sequence holds) and only grow,
    // wrapping after 2^31 permits on one slot.
    const id = ((Atomics.load(i32, sequence) >>> 0) % 0x7fffffff) + 1
    Atomics.store(i32, sequence, id)
    const expiresAt = now + ttlMs
    f64[(free + L.EXPIRES_AT) >> 3] = expiresAt
    Atomics.store(i32, (free + L.ID) >> 2, id)
    return { id, cell: (free + L.ID) >> 2, expiresAt }
  }

  /** Frees the cell at Int32 index `cell` if it still holds permit `id`. */
  release(cell: number, id: number): void {
    Atomics.compareExchange(this.i32, cell, id, 0)
  }

  /** Frees every permit of a slot. */
  clear(slot: number): void {
    for (let cell = 0; cell < this.count; cell++) Atomics.store(this.i32, (slot + S.LEASES + cell * LEASE_BYTES + L.ID) >> 2, 0)
  }
}
