/** Bytes one bucket takes: its second (Float64) plus two Uint32 counters. */
export const BYTES_PER_BUCKET = 16

/**
 * One circuit's counts: a ring of one-second buckets in a single ArrayBuffer. Bucket `i`
 * holds the outcomes of epoch second `seconds[i]`; a bucket whose second is not the one
 * being asked about is stale and reads as zero, and a stale bucket is reset when written.
 * Writes are O(1); a count sums the buckets covering the window.
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

  constructor(readonly size: number) {
    const buffer = new ArrayBuffer(size * BYTES_PER_BUCKET)
    this.seconds = new Float64Array(buffer, 0, size)
    this.failures = new Uint32Array(buffer, size * 8, size)
    this.successes = new Uint32Array(buffer, size * 12, size)
    this.seconds.fill(Number.NaN)
  }

  /** The bucket to count an outcome of epoch second `second` in, reset first if stale. */
  slot(second: number): number {
    if (second < this.latest) second = this.latest
    else this.latest = second
    let i = second % this.size
    if (i < 0) i += this.size
    if (this.seconds[i] !== second) {
      this.seconds[i] = second
      this.failures[i] = 0
      this.successes[i] = 0
    }
    return i
  }

  /**
   * Sums the buckets from epoch second `from` up to the newest one (`to`, or `latest` when the
   * clock stepped back), never more than the ring holds. `into` receives [failures, successes].
   */
  sum(from: number, to: number, into: Float64Array): void {
    const { size, seconds, failures, successes } = this
    const last = to > this.latest ? to : this.latest
    // The ring caps every window at `size` seconds.
    const first = from > last - size + 1 ? from : last - size + 1
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
    into[0] = f
    into[1] = s
  }
}
