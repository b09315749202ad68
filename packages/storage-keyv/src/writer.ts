import { saturatingAdd } from '@breaker/core/kit'
import type { WriterData } from './decode.js'

/**
 * This instance's own counts for one circuit. Only this instance ever writes its writer key,
 * so writing the whole value (not an increment) cannot lose anybody's outcome; writes are
 * coalesced, one in flight at a time, so a stale value can never land after a newer one.
 */
export class CircuitWriter {
  /** bucket index → [failures, successes] */
  private buckets = new Map<number, [number, number]>()
  /** Longest span (ms) the counts must answer for. */
  keepMs: number
  /** Generation the counts belong to; `undefined` until first read from the store. */
  generation: string | undefined
  /** Bumped by every local change; `flushed` is the newest version known to be stored. */
  version = 0
  flushed = 0
  /** The write in flight, if any. */
  inflight: Promise<void> | undefined
  /** The slot claim, once started; reset when the slot is lost. */
  claim: Promise<number> | undefined
  /** Slot held, and when it was last confirmed (epoch ms of the real clock). */
  slot = -1
  slotConfirmedAt = 0

  constructor(keepMs: number) {
    this.keepMs = keepMs
  }

  /** Adds outcomes to a bucket; answers the version that includes them. */
  add(index: number, failures: number, successes: number): number {
    const bucket = this.buckets.get(index)
    if (bucket) {
      bucket[0] = saturatingAdd(bucket[0], failures)
      bucket[1] = saturatingAdd(bucket[1], successes)
    } else if (failures > 0 || successes > 0) {
      this.buckets.set(index, [failures, successes])
    }
    return ++this.version
  }

  /** True while the writer holds any count. */
  get holdsCounts(): boolean {
    return this.buckets.size > 0
  }

  /** Drops every count (a clear happened elsewhere) and adopts the new generation. */
  reset(generation: string | undefined): void {
    this.buckets.clear()
    this.generation = generation
    this.flushed = this.version
  }

  /** The value to store: buckets older than `keepMs` before bucket `nowIndex` are dropped first. */
  snapshot(nowIndex: number, bucketMs: number): WriterData {
    const oldest = nowIndex - Math.ceil(this.keepMs / bucketMs) + 1
    const b: Array<[number, number, number]> = []
    for (const [index, [f, s]] of this.buckets) {
      if (index < oldest) this.buckets.delete(index)
      else b.push([index, f, s])
    }
    return { g: this.generation ?? '', b }
  }
}
