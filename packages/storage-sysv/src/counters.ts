import { S } from './layout.js'

/** Largest count a bucket holds (a 32-bit word read as unsigned); adding more saturates here. */
export const MAX_BUCKET_COUNT = 0xffff_ffff

/**
 * Per-second outcome counters in a ring of `bucketCount` buckets, lock-free.
 *
 * A bucket holds two 64-bit words, failures then successes; each word is an unsigned 32-bit count and
 * the 32-bit stamp of the second it counts (epoch second + 1, so 0 means never written). The
 * common case — the bucket is already on this second — is one `Atomics.add` on the count.
 * Moving a bucket to a new second replaces count and stamp together with one 64-bit
 * compare-and-swap, so an increment can never be wiped by a concurrent reset: the CAS fails
 * and the writer retries against the new word. Readers never pair a count with the wrong
 * second (see `sumPlain`).
 */
export class Counters {
  // Word positions inside a 64-bit pair, in this machine's byte order (found, not assumed).
  private readonly countWord: number
  private readonly stampWord: number
  private readonly pair32 = new Int32Array(2)
  private readonly pair64 = new BigInt64Array(this.pair32.buffer)
  /** Loads are not reordered with loads on this CPU (x86 TSO). */
  private readonly ordered = process.arch === 'x64' || process.arch === 'ia32'

  constructor(
    private readonly i32: Int32Array,
    private readonly b64: BigInt64Array,
    private readonly bucketCount: number,
    /** Offset of bucket 0 inside a slot (bytes). */
    private readonly bucketsOffset: number,
  ) {
    // The count is the low half of the 64-bit word: word 0 on little-endian machines.
    this.pair64[0] = 1n
    this.countWord = this.pair32[0] === 1 ? 0 : 1
    this.stampWord = 1 - this.countWord
    this.pair64[0] = 0n
  }

  /**
   * Adds `failures` and `successes` to the bucket of epoch second `second`. Amounts are whole
   * numbers; a count saturates at {@link MAX_BUCKET_COUNT} instead of wrapping.
   */
  add(slot: number, second: number, failures: number, successes: number): void {
    const pair = (slot + this.bucketsOffset) / 4 + (second % this.bucketCount) * 4
    const stamp = (second + 1) | 0
    if (failures >= 1) this.addTo(pair, stamp, failures < MAX_BUCKET_COUNT ? Math.floor(failures) : MAX_BUCKET_COUNT)
    if (successes >= 1) this.addTo(pair + 2, stamp, successes < MAX_BUCKET_COUNT ? Math.floor(successes) : MAX_BUCKET_COUNT)
  }

  private addTo(pair: number, stamp: number, amount: number): void {
    const { i32, b64 } = this
    const at = pair + this.countWord
    for (;;) {
      // A plain load is safe here on any CPU: a stale "equal" stamp is still equal, since stamps
      // only move a whole ring forward, and every other path is settled by the CAS below.
      const current = i32[pair + this.stampWord]!
      if (current === stamp) {
        // A compare-and-swap rather than Atomics.add, so that the count saturates: an add
        // would wrap a 32-bit count past 2^32 - 1 into a small one. Same cost on x86.
        const old = i32[at]!
        const sum = (old >>> 0) + amount
        if (Atomics.compareExchange(i32, at, old, sum < MAX_BUCKET_COUNT ? sum | 0 : MAX_BUCKET_COUNT | 0) === old) return
        continue
      }
      // The bucket already counts a later second (this clock is a whole ring behind the
      // others): the outcome is older than any window the ring can answer, so it is dropped.
      if (((current - stamp) | 0) > 0 && current !== 0) return
      const word = Atomics.load(b64, pair >> 1)
      this.pair64[0] = word
      if (this.pair32[this.stampWord] !== current) continue
      this.pair32[this.stampWord] = stamp
      this.pair32[this.countWord] = amount | 0
      if (Atomics.compareExchange(b64, pair >> 1, word, this.pair64[0]!) === word) return
    }
  }

  /** Failures of the last `sum`. */
  failures = 0
  /** Successes of the last `sum`. */
  successes = 0

  /**
   * Sums the buckets of epoch seconds `from` to `to` (inclusive, at most one ring) into
   * `failures` and `successes`; a bucket holding another second counts as zero.
   */
  sum(slot: number, from: number, to: number): void {
    if (this.ordered) this.sumPlain(slot, from, to)
    else this.sumAtomic(slot, from, to)
  }

  // x86 keeps loads in program order (TSO), so plain loads suffice and cost ~1 ns instead of
  // ~10 ns for Atomics.load, which V8 does not inline. Reading the stamp first and then the
  // count is enough: a bucket's stamp changes only when the ring comes round (bucketCount
  // seconds later), and then count and stamp change in one 64-bit CAS. Each call reads the
  // memory afresh; nothing is cached between calls.
  private sumPlain(slot: number, from: number, to: number): void {
    const { i32, bucketCount, countWord, stampWord } = this
    const base = (slot + this.bucketsOffset) / 4
    let failures = 0
    let successes = 0
    // Walk forward from the oldest bucket, wrapping once, without a modulo per bucket.
    let index = from % bucketCount
    let stamp = (from + 1) | 0
    for (let second = from; second <= to; second++) {
      const pair = base + index * 4
      if (i32[pair + stampWord] === stamp) failures += i32[pair + countWord]! >>> 0
      if (i32[pair + 2 + stampWord] === stamp) successes += i32[pair + 2 + countWord]! >>> 0
      stamp = (stamp + 1) | 0
      index = index === bucketCount - 1 ? 0 : index + 1
    }
    this.failures = failures
    this.successes = successes
  }

  // Elsewhere (arm64 and others) loads may be reordered, so the count could be read from before
  // the stamp's CAS: every load is atomic, and the stamp is checked again after the count.
  private sumAtomic(slot: number, from: number, to: number): void {
    const { i32, bucketCount, countWord, stampWord } = this
    const base = (slot + this.bucketsOffset) / 4
    let failures = 0
    let successes = 0
    for (let second = from; second <= to; second++) {
      const stamp = (second + 1) | 0
      const pair = base + (second % bucketCount) * 4
      if (Atomics.load(i32, pair + stampWord) === stamp) {
        const count = Atomics.load(i32, pair + countWord) >>> 0
        if (Atomics.load(i32, pair + stampWord) === stamp) failures += count
      }
      if (Atomics.load(i32, pair + 2 + stampWord) === stamp) {
        const count = Atomics.load(i32, pair + 2 + countWord) >>> 0
        if (Atomics.load(i32, pair + 2 + stampWord) === stamp) successes += count
      }
    }
    this.failures = failures
    this.successes = successes
  }

  /**
   * Zeroes every bucket of a slot, each word in one atomic store, then bumps the slot's clear
   * counter so other processes drop what they summed of it.
   */
  clear(slot: number): void {
    const first = (slot + this.bucketsOffset) / 8
    for (let i = 0; i < this.bucketCount * 2; i++) Atomics.store(this.b64, first + i, 0n)
    Atomics.add(this.i32, (slot + S.CLEARS) >> 2, 1)
  }
}
