/** Bytes one bucket takes: its epoch second and two counters, each a Uint32. */
export const BYTES_PER_BUCKET = 12

/** Marks a bucket never written (no epoch second is this large before 2106). */
const UNWRITTEN = 0xffff_ffff

/** The most one bucket counts of each outcome: a Uint32 cell saturates here instead of wrapping. */
export const MAX_CELL = 0xffff_ffff

/**
 * One circuit's counts: a ring of one-second buckets in a single ArrayBuffer. Bucket `i`
 * holds the outcomes of epoch second `seconds[i]`; a bucket whose second is not the one
 * being asked about is stale and reads as zero, and a stale bucket is reset when written.
 * Writes are O(1). A count sums the buckets covering the window once, then keeps that sum
 * up to date as outcomes arrive, until the window moves on (the next second) or changes.
 */
export class BucketRing {
  /**
   * Bucket `i` is `cells[3i]` (its epoch second, `UNWRITTEN` before the first write),
   * `cells[3i + 1]` (failures) and `cells[3i + 2]` (successes). One typed array rather than
   * three: each view is an object of its own, which costs more than a small ring's counters.
   */
  readonly cells: Uint32Array
  /**
   * Newest second written. A clock that steps backwards writes here instead, so a bucket
   * holding a newer second is never reset to an older one (no count is lost or corrupted).
   */
  latest = Number.NEGATIVE_INFINITY
  // A running sum over the buckets that still hold a second in [sumFrom, sumTo]: writes into
  // that range add to it, a stale bucket reset out of it subtracts, and when the window moves
  // on by a few seconds the sum slides (buckets leaving subtracted, buckets entering added)
  // instead of being summed again, so a count costs O(1) amortised.
  private sumFrom = Number.NaN
  private sumTo = Number.NaN
  private sumFailures = 0
  private sumSuccesses = 0

  constructor(readonly size: number) {
    this.cells = new Uint32Array(size * 3).fill(UNWRITTEN)
  }

  /** Forgets every count, as a new ring would. */
  resetCounts(): void {
    this.cells.fill(UNWRITTEN)
    this.latest = Number.NEGATIVE_INFINITY
    this.sumFrom = Number.NaN
    this.sumTo = Number.NaN
    this.sumFailures = 0
    this.sumSuccesses = 0
  }

  /**
   * Counts `failures` and `successes` (whole numbers >= 0) in the bucket of epoch second
   * `second`, reset first if stale. A cell saturates at {@link MAX_CELL}, and the running sum
   * takes only what the cell actually gained, so the two never disagree.
   */
  add(second: number, failures: number, successes: number): void {
    // Epoch seconds are never negative (a clock before 1970 writes into second 0).
    if (second < 0) second = 0
    if (second < this.latest) second = this.latest
    else this.latest = second
    const { cells } = this
    const i = (second % this.size) * 3
    let addedFailures: number
    let addedSuccesses: number
    if (cells[i] !== second) {
      // The stale bucket's second leaves the ring: take it out of the running sum if it was in.
      const old = cells[i]!
      if (old >= this.sumFrom && old <= this.sumTo) {
        this.sumFailures -= cells[i + 1]!
        this.sumSuccesses -= cells[i + 2]!
      }
      addedFailures = failures < MAX_CELL ? failures : MAX_CELL
      addedSuccesses = successes < MAX_CELL ? successes : MAX_CELL
      cells[i] = second
      cells[i + 1] = addedFailures
      cells[i + 2] = addedSuccesses
    } else {
      // Without the cap a Uint32 store keeps the sum modulo 2^32: 2^32 failures would read as 0.
      const f = cells[i + 1]!
      const s = cells[i + 2]!
      addedFailures = failures < MAX_CELL - f ? failures : MAX_CELL - f
      addedSuccesses = successes < MAX_CELL - s ? successes : MAX_CELL - s
      cells[i + 1] = f + addedFailures
      cells[i + 2] = s + addedSuccesses
    }
    if (second >= this.sumFrom && second <= this.sumTo) {
      this.sumFailures += addedFailures
      this.sumSuccesses += addedSuccesses
    }
  }

  /**
   * Sums the buckets from epoch second `from` up to the newest one (`to`, or `latest` when the
   * clock stepped back), never more than the ring holds. `into` receives [failures, successes].
   */
  sum(from: number, to: number, into: Float64Array): void {
    const { size } = this
    const last = to > this.latest ? to : this.latest
    // The ring caps every window at `size` seconds; no second precedes the epoch.
    const start = from > last - size + 1 ? from : last - size + 1
    const first = start > 0 ? start : 0
    if (first !== this.sumFrom || last !== this.sumTo) {
      // Slide when the window only moved forward and overlaps the old one; sum afresh otherwise.
      if (first >= this.sumFrom && last >= this.sumTo && first <= this.sumTo) this.slide(first, last)
      else this.resum(first, last)
    }
    into[0] = this.sumFailures
    into[1] = this.sumSuccesses
  }

  private slide(first: number, last: number): void {
    const { size, cells } = this
    let f = this.sumFailures
    let s = this.sumSuccesses
    for (let second = this.sumFrom; second < first; second++) {
      const i = (second % size) * 3
      if (cells[i] === second) {
        f -= cells[i + 1]!
        s -= cells[i + 2]!
      }
    }
    for (let second = this.sumTo + 1; second <= last; second++) {
      const i = (second % size) * 3
      if (cells[i] === second) {
        f += cells[i + 1]!
        s += cells[i + 2]!
      }
    }
    this.sumFrom = first
    this.sumTo = last
    this.sumFailures = f
    this.sumSuccesses = s
  }

  private resum(first: number, last: number): void {
    const { size, cells } = this
    let f = 0
    let s = 0
    let i = (first % size) * 3
    for (let second = first; second <= last; second++) {
      if (cells[i] === second) {
        f += cells[i + 1]!
        s += cells[i + 2]!
      }
      i += 3
      if (i === size * 3) i = 0
    }
    this.sumFrom = first
    this.sumTo = last
    this.sumFailures = f
    this.sumSuccesses = s
  }
}
