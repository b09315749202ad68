import { MAX_COUNT } from '@breaker/core/kit'

/**
 * A sorted queue of timestamps (epoch ms) in one Float64Array ring: 8 bytes an outcome,
 * no object per outcome. Callers only push values >= the last one, so the ring stays sorted
 * and a window's count is a binary search, not a scan.
 *
 * A batch of many outcomes at one instant (an import, a coalesced write) is one weighted entry:
 * on the first such batch the ring grows a second array of running totals, so an entry costs
 * 16 bytes from then on but a batch of 300 000 000 costs one entry, not 2.4 GB. Totals saturate
 * at `MAX_COUNT`, so a count is never wrong in sign nor past a safe integer.
 */
export class TimestampRing {
  private buffer: Float64Array
  // Capacity is a power of two so wrapping is a mask, not a modulo.
  private mask: number
  private head = 0
  // Running totals, present once a weighted entry was pushed: `totals[i]` is how many outcomes
  // were pushed up to and including entry i, `floor` how many before the oldest entry held,
  // `total` how many up to the newest. A window's count is then a difference of two totals.
  private totals: Float64Array | undefined
  private floor = 0
  private total = 0
  /** How many entries are held (one per timestamp pushed, or per batch instant). */
  size = 0

  constructor(initialCapacity = 16) {
    this.buffer = new Float64Array(initialCapacity)
    this.mask = initialCapacity - 1
  }

  /** Appends `at`, which must not be older than the newest timestamp held. */
  push(at: number): void {
    if (this.totals !== undefined) return this.pushWeighted(at, 1)
    if (this.size === this.buffer.length) this.resize(this.buffer.length * 2)
    this.buffer[(this.head + this.size) & this.mask] = at
    this.size++
  }

  /** Appends `times` outcomes at `at` (a batch written at one instant) as one entry: O(1) whatever `times` is. */
  pushMany(at: number, times: number): void {
    if (times <= 0) return
    if (times === 1 && this.totals === undefined) return this.push(at)
    if (this.totals === undefined) this.weigh()
    this.pushWeighted(at, times)
  }

  /** How many outcomes are at or after `since`: those inside a window starting at `since`. */
  countSince(since: number): number {
    const { buffer, mask, head } = this
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (buffer[(head + mid) & mask]! < since) lo = mid + 1
      else hi = mid
    }
    const totals = this.totals
    if (totals === undefined) return this.size - lo
    return this.total - (lo === 0 ? this.floor : totals[(head + lo - 1) & mask]!)
  }

  /** Forgets timestamps older than `cutoff`; gives memory back after a burst has aged out. */
  dropBefore(cutoff: number): void {
    const { buffer, mask, totals } = this
    while (this.size > 0 && buffer[this.head]! < cutoff) {
      if (totals !== undefined) this.floor = totals[this.head]!
      this.head = (this.head + 1) & mask
      this.size--
    }
    // Once every weighted entry is gone, plain 8-byte entries serve again.
    if (this.size === 0 && totals !== undefined) {
      this.totals = undefined
      this.floor = this.total = 0
    }
    // Shrink only well below capacity, so a steady rate does not resize back and forth.
    if (this.buffer.length > 64 && this.size < this.buffer.length >>> 2) {
      let capacity = this.buffer.length >>> 1
      while (capacity > 64 && this.size < capacity >>> 2) capacity >>>= 1
      this.resize(capacity)
    }
  }

  /** Outcomes held (the sum of every entry's weight). */
  get count(): number {
    return this.totals === undefined ? this.size : this.total - this.floor
  }

  /** Timestamp of the newest entry, or `-Infinity` when none is held. */
  get newest(): number {
    return this.size === 0 ? Number.NEGATIVE_INFINITY : this.buffer[(this.head + this.size - 1) & this.mask]!
  }

  /** Bytes held by the ring's arrays. */
  get bytes(): number {
    return this.buffer.byteLength + (this.totals?.byteLength ?? 0)
  }

  /** Switches to weighted entries: each entry held so far weighs one. */
  private weigh(): void {
    const totals = new Float64Array(this.buffer.length)
    for (let i = 0; i < this.size; i++) totals[(this.head + i) & this.mask] = i + 1
    this.totals = totals
    this.floor = 0
    this.total = this.size
  }

  private pushWeighted(at: number, times: number): void {
    if (this.total + times > MAX_COUNT) {
      // Totals are relative to the ring's history: rebase them on what is still held first,
      // then saturate what is held at MAX_COUNT.
      this.rebase()
      if (this.total + times > MAX_COUNT) times = MAX_COUNT - this.total
      if (times <= 0) return
    }
    const totals = this.totals!
    const newest = (this.head + this.size - 1) & this.mask
    if (this.size > 0 && this.buffer[newest] === at) {
      // Same instant as the newest entry: add to its weight instead of taking another slot.
      totals[newest] = totals[newest]! + times
    } else {
      if (this.size === this.buffer.length) this.resize(this.buffer.length * 2)
      const i = (this.head + this.size) & this.mask
      this.buffer[i] = at
      this.totals![i] = this.total + times
      this.size++
    }
    this.total += times
  }

  private rebase(): void {
    const { floor, mask, head } = this
    const totals = this.totals!
    for (let i = 0; i < this.size; i++) totals[(head + i) & mask] = totals[(head + i) & mask]! - floor
    this.total -= floor
    this.floor = 0
  }

  private resize(capacity: number): void {
    const next = new Float64Array(capacity)
    const totals = this.totals
    const nextTotals = totals === undefined ? undefined : new Float64Array(capacity)
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) & this.mask
      next[i] = this.buffer[from]!
      if (nextTotals !== undefined) nextTotals[i] = totals![from]!
    }
    this.buffer = next
    this.totals = nextTotals
    this.mask = capacity - 1
    this.head = 0
  }
}
