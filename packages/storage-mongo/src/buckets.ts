import type { Collection, Document } from 'mongodb'
import type { WindowCounts } from '@breaker/core'
import { MAX_COUNT } from '@breaker/core/kit'
import {
  BUCKET_REPAIR_UPDATE,
  bucketFilter,
  bucketIncrement,
  bucketRepairFilter,
  corruptBucketsFilter,
  countPipeline,
  secondOf,
} from './commands.js'
import { isDuplicateKey, isTypeMismatch } from './errors.js'

/** Receives a bucket document that could not be read (or written) and why. */
export type BucketCorruptHandler = (document: unknown, reason: string) => void

/** Reason given for buckets whose counters are unusable. */
export const CORRUPT_BUCKET_REASON = 'failures and successes are not both finite whole numbers >= 0'

/** How many corrupt buckets one count looks up to report; the rest are still counted as absent. */
const CORRUPT_REPORT_LIMIT = 10

/**
 * Adds outcomes to the circuit's bucket for the current second: one `updateOne` with `$inc` and
 * upsert, atomic on the server, so concurrent writers never lose or double a count.
 */
export async function addToBucket(
  buckets: Collection<Document>,
  circuit: string,
  nowMs: number,
  counts: WindowCounts,
  onCorrupt: BucketCorruptHandler,
): Promise<void> {
  const second = secondOf(nowMs)
  const write = (): Promise<unknown> =>
    buckets.updateOne(bucketFilter(circuit, second), bucketIncrement(counts.failures, counts.successes), { upsert: true })
  try {
    await write()
  } catch (error) {
    if (isDuplicateKey(error)) {
      // Two writers created the same new bucket; the unique index let one in, so this is an update now.
      await write()
    } else if (isTypeMismatch(error)) {
      // A counter is not a number, so `$inc` is refused: zero the bucket (reporting what it held)
      // and count again, instead of failing every write of this second.
      const before = await buckets.findOneAndUpdate(bucketRepairFilter(circuit, second), BUCKET_REPAIR_UPDATE, {
        returnDocument: 'before',
      })
      if (before !== null) onCorrupt(before, CORRUPT_BUCKET_REASON)
      await write()
    } else {
      throw error
    }
  }
}

/**
 * Sums the circuit's buckets inside the window with one aggregation (a range query on the
 * unique index). Unusable buckets count as absent; when there are any, a few are looked up and
 * handed to `onCorrupt`.
 */
export async function countWindow(
  buckets: Collection<Document>,
  circuit: string,
  nowMs: number,
  windowMs: number,
  onCorrupt: BucketCorruptHandler,
): Promise<WindowCounts> {
  const [row] = await buckets.aggregate(countPipeline(circuit, nowMs, windowMs)).toArray()
  if (row === undefined) return { failures: 0, successes: 0 }
  if (Number(row['corrupt']) > 0) {
    const corrupt = await buckets.find(corruptBucketsFilter(circuit, nowMs, windowMs), { limit: CORRUPT_REPORT_LIMIT }).toArray()
    for (const document of corrupt) onCorrupt(document, CORRUPT_BUCKET_REASON)
  }
  return { failures: saturated(row['failures']), successes: saturated(row['successes']) }
}

/** A window's sum as a count: every bucket in it is a whole number <= MAX_COUNT, but their sum may pass it. */
function saturated(sum: unknown): number {
  const n = Number(sum)
  return n > 0 ? (n < MAX_COUNT ? n : MAX_COUNT) : 0
}
