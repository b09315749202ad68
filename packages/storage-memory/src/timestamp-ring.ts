/**
 * A sorted queue of timestamps (epoch ms) in one Float64Array ring: 8 bytes an outcome,
 * no object per outcome. Callers only push values >= the last one, so the ring stays sorted
 * and a window's count is a binary search, not a scan.
 */
export class TimestampRing {
  private buffer: Float64Array
  // Capacity is a power of two so wrapping is a mask, not a modulo.
  private mask: number
  private head = 0
  /** How many timestamps are held. */
  size = 0

  constructor(initialCapacity = 16) {
    this.buffer = new Float64Array(initialCapacity)
    this.mask = initialCapacity - 1
  }

  /** Appends `at`, which must not be older than the newest timestamp held. */
  push(at: number): void {
    if (this.size === this.buffer.length) this.resize(this.buffer.length * 2)
    this.buffer[(this.head + this.size) & this.mask] = at
    this.size++
  }

  /** Appends `times` copies of `at` (a batch written at one instant). */
  pushMany(at: number, times: number): void {
    while (this.size + times > this.buffer.length) this.resize(this.buffer.length * 2)
    for (let i = 0; i < times; i++) this.buffer[(this.head + this.size + i) & this.mask] = at
    this.size += times
  }

  /** How many timestamps are `>= since`: the outcomes inside a window starting at `since`. */
  countSince(since: number): number {
    const { buffer, mask, head } = this
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (buffer[(head + mid) & mask]! < since) lo = mid + 1
      else hi = mid
    }
    return this.size - lo
  }

  /** Forgets timestamps older than `cutoff`; gives memory back after a burst has aged out. */
  dropBefore(cutoff: number): void {
    const { buffer, mask } = this
    while (this.size > 0 && buffer[this.head]! < cutoff) {
      this.head = (this.head + 1) & mask
      this.size--
    }
    // Shrink only well below capacity, so a steady rate does not resize back and forth.
    if (this.buffer.length > 64 && this.size < this.buffer.length >>> 2) {
      let capacity = this.buffer.length >>> 1
      while (capacity > 64 && this.size < capacity >>> 2) capacity >>>= 1
      this.resize(capacity)
    }
  }

  /** Bytes held by the ring's buffer. */
  get bytes(): number {
    return this.buffer.byteLength
  }

  private resize(capacity: number): void {
    const next = new Float64Array(capacity)
    for (let i = 0; i < this.size; i++) next[i] = this.buffer[(this.head + i) & this.mask]!
    this.buffer = next
    this.mask = capacity - 1
    this.head = 0
  }
}
