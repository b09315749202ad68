/** Bytes one bucket takes: its second (Float64) plus two Uint32 counters. */
export const BYTES_PER_BUCKET = 16

/**
 * One circuit's counts: a ring of one-second buckets in a single ArrayBuffer. Bucket `i`
 * holds the outcomes of epoch second `seconds[i]`; a bucket whose second is not the one
 * being asked about is stale and reads as zero, and a stale bucket is reset when written.
 * Writes are O(1). A count sums the buckets covering the window once, then keeps that sum
 * up to date as outcomes arrive, until the window moves on (the next second) or changes.
 */
export class BucketRing {
  /** Epoch second each bucket belongs to; NaN = never written. */
  readonly seconds: Float64Array
  /** Failures counted in each bucket's second. */
  readonly failures: Uint32Array
  /** Successes counted in each bucket's second. */
  readonly successes: Uint32Array
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
    const buffer = new ArrayBuffer(size * BYTES_PER_BUCKET)
    this.seconds = new Float64Array(buffer, 0, size)
    this.failures = new Uint32Array(buffer, size * 8, size)
    this.successes = new Uint32Array(buffer, size * 12, size)
    this.seconds.fill(Number.NaN)
  }

  /** Counts `failures` and `successes` in the bucket of epoch second `second`, reset first if stale. */
  add(second: number, failures: number, successes: number): void {
    if (second < this.latest) second = this.latest
    else this.latest = second
    let i = second % this.size
    if (i < 0) i += this.size
    if (this.seconds[i] !== second) {
      // The stale bucket's second leaves the ring: take it out of the running sum if it was in.
      const old = this.seconds[i]!
      if (old >= this.sumFrom && old <= this.sumTo) {
        this.sumFailures -= this.failures[i]!
        this.sumSuccesses -= this.successes[i]!
      }
      this.seconds[i] = second
      this.failures[i] = failures
      this.successes[i] = successes
    } else {
      this.failures[i] = this.failures[i]! + failures
      this.successes[i] = this.successes[i]! + successes
    }
    if (second >= this.sumFrom && second <= this.sumTo) {
      this.sumFailures += failures
      this.sumSuccesses += successes
    }
  }

  /**
   * Sums the buckets from epoch second `from` up to the newest one (`to`, or `latest` when the
   * clock stepped back), never more than the ring holds. `into` receives [failures, successes].
   */
  sum(from: number, to: number, into: Float64Array): void {
    const { size } = this
    const last = to > this.latest ? to : this.latest
    // The ring caps every window at `size` seconds.
    const first = from > last - size + 1 ? from : last - size + 1
    if (first !== this.sumFrom || last !== this.sumTo) {
      // Slide when the window only moved forward and overlaps the old one; sum afresh otherwise.
      if (first >= this.sumFrom && last >= this.sumTo && first <= this.sumTo) this.slide(first, last)
      else this.resum(first, last)
    }
    into[0] = this.sumFailures
    into[1] = this.sumSuccesses
  }

  private slide(first: number, last: number): void {
    const { size, seconds, failures, successes } = this
    let f = this.sumFailures
    let s = this.sumSuccesses
    for (let second = this.sumFrom; second < first; second++) {
      let i = second % size
      if (i < 0) i += size
      if (seconds[i] === second) {
        f -= failures[i]!
        s -= successes[i]!
      }
    }
    for (let second = this.sumTo + 1; second <= last; second++) {
      let i = second % size
      if (i < 0) i += size
      if (seconds[i] === second) {
        f += failures[i]!
        s += successes[i]!
      }
    }
    this.sumFrom = first
    this.sumTo = last
    this.sumFailures = f
    this.sumSuccesses = s
  }

  private resum(first: number, last: number): void {
    const { size, seconds, failures, successes } = this
    let f = 0
    let s = 0
    let i = first % size
    if (i < 0) i += size
    for (let second = first; second <= last; second++) {
      if (seconds[i] === second) {
        f += failures[i]!
        s += successes[i]!
      }
      if (++i === size) i = 0
    }
    this.sumFrom = first
    this.sumTo = last
    this.sumFailures = f
    this.sumSuccesses = s
  }
}
