import type { WindowCounts } from '@breaker/core'
import type { Counters } from './counters.js'
import { H, S } from './layout.js'

/**
 * Seconds at least this far behind the newest are "settled": a writer on this host would have
 * to stall for over a second between reading the clock and adding its count to write there.
 */
const SETTLE_SECONDS = 2
/** A kept sum is rebuilt from the shared buckets at least this often (s), bounding any drift. */
const REBUILD_SECONDS = 10

/** What this process summed of one slot's settled seconds, and what it added for each. */
interface Settled {
  generation: number
  clears: number
  /** Oldest and newest second in the sum. */
  first: number
  last: number
  /** Newest second when the sum was last rebuilt from scratch. */
  rebuiltAt: number
  failures: number
  successes: number
  /** Per ring position: what was added to the sum for that second, to take it out again. */
  readonly addedFailures: Uint32Array
  readonly addedSuccesses: Uint32Array
}

/**
 * Window counts that cost O(1) per call instead of a walk over the window. The settled part of
 * a window (all but its newest seconds) is summed once and then slid a second at a time, as the
 * window moves; only the newest seconds are read from shared memory on every call. A sum is
 * dropped when the slot is cleared anywhere (its clear counter), when clearAll ran (the
 * generation), when this process writes into a second it had settled (a clock moved back), and
 * rebuilt every ten seconds regardless, so a write that landed late in a settled second is
 * counted within ten seconds.
 */
export class WindowSums {
  private readonly settled = new Map<number, Settled>()
  /** Newest second any kept sum covers; a write at or before it drops every sum. */
  private newestSettled = Number.NEGATIVE_INFINITY

  constructor(
    private readonly counters: Counters,
    private readonly i32: Int32Array,
    private readonly bucketCount: number,
  ) {}

  /** Tells the cache this process wrote into `second`. */
  wrote(second: number): void {
    if (second <= this.newestSettled) {
      this.settled.clear()
      this.newestSettled = Number.NEGATIVE_INFINITY
    }
  }

  /** Counts over the `seconds` newest seconds up to and including epoch second `second`. */
  count(slot: number, second: number, seconds: number): WindowCounts {
    const { counters } = this
    const span = Math.min(seconds, this.bucketCount, second + 1)
    const first = second - span + 1
    const last = second - SETTLE_SECONDS
    if (last < first) {
      counters.sum(slot, first, second)
      return { failures: counters.failures, successes: counters.successes }
    }
    const sums = this.current(slot, first, last)
    counters.sum(slot, last + 1, second)
    return { failures: sums.failures + counters.failures, successes: sums.successes + counters.successes }
  }

  private current(slot: number, first: number, last: number): Settled {
    // Plain loads: both are hints that a clear ran, and the clearer bumps them after zeroing.
    const generation = this.i32[H.GENERATION]!
    const clears = this.i32[(slot + S.CLEARS) >> 2]!
    let sums = this.settled.get(slot)
    if (sums === undefined) {
      sums = {
        generation,
        clears,
        first,
        last,
        rebuiltAt: last,
        failures: 0,
        successes: 0,
        addedFailures: new Uint32Array(this.bucketCount),
        addedSuccesses: new Uint32Array(this.bucketCount),
      }
      this.settled.set(slot, sums)
      this.rebuild(slot, sums, first, last)
    } else if (
      sums.generation !== generation ||
      sums.clears !== clears ||
      last - sums.rebuiltAt >= REBUILD_SECONDS ||
      // Only a window that moved forward, or shrank, and still overlaps can slide.
      first < sums.first ||
      last < sums.last ||
      first > sums.last + 1
    ) {
      sums.generation = generation
      sums.clears = clears
      this.rebuild(slot, sums, first, last)
    } else if (first !== sums.first || last !== sums.last) {
      this.slide(slot, sums, first, last)
    }
    if (last > this.newestSettled) this.newestSettled = last
    return sums
  }

  private rebuild(slot: number, sums: Settled, first: number, last: number): void {
    sums.failures = 0
    sums.successes = 0
    for (let second = first; second <= last; second++) this.take(slot, sums, second)
    sums.first = first
    sums.last = last
    sums.rebuiltAt = last
  }

  private slide(slot: number, sums: Settled, first: number, last: number): void {
    const { bucketCount } = this
    for (let second = sums.first; second < first; second++) {
      const at = second % bucketCount
      sums.failures -= sums.addedFailures[at]!
      sums.successes -= sums.addedSuccesses[at]!
    }
    for (let second = sums.last + 1; second <= last; second++) this.take(slot, sums, second)
    sums.first = first
    sums.last = last
  }

  /** Reads one second from shared memory into the sum, remembering what it added. */
  private take(slot: number, sums: Settled, second: number): void {
    const { counters } = this
    counters.sum(slot, second, second)
    const at = second % this.bucketCount
    sums.addedFailures[at] = counters.failures
    sums.addedSuccesses[at] = counters.successes
    sums.failures += counters.failures
    sums.successes += counters.successes
  }
}
