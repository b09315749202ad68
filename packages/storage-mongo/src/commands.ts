import type { Document } from 'mongodb'
import type { StatusRecord } from '@breaker/core'
import { MAX_COUNT } from '@breaker/core/kit'
import { VALID_BUCKET_EXPR, statusDocumentBody, validBucketFilter, validStatusFilter } from './documents.js'

// Every filter and update MongoStorage sends is built here, as plain data, so the unit tests
// can assert the exact commands without a server. A circuit name only ever appears as a value
// (`_id: name`, `circuit: name`), never as a field name or path, and always as a string: the
// storage refuses non-strings before it gets here. A string is never read as an operator, so
// names like '{"$gt": ""}', 'a.b' or '$where' are just names.

/** Milliseconds per bucket: one document per circuit per epoch second. */
export const BUCKET_MS = 1000

/** The epoch second `epochMs` falls in. */
export function secondOf(epochMs: number): number {
  return Math.floor(epochMs / BUCKET_MS)
}

/**
 * The bucket seconds a window covers: `second > from && second <= to`. The current second is
 * always included, even for windows shorter than a bucket ("now included").
 */
export function windowRange(nowMs: number, windowMs: number): { from: number; to: number } {
  const to = secondOf(nowMs)
  const from = Number.isFinite(windowMs) ? Math.min(secondOf(nowMs - windowMs), to - 1) : -Infinity
  return { from, to }
}

/** Filter of the status document of one circuit. */
export function statusFilter(circuit: string): Document {
  return { _id: circuit }
}

/** The replacement written by `setStatus` and `compareAndSetStatus`. */
export function statusReplacement(record: StatusRecord): Document {
  return statusDocumentBody(record)
}

/**
 * Compare-and-set filter. For `expectedEpoch` 0 it matches a circuit that is absent, corrupt or
 * at epoch 0: "not a readable document with a nonzero epoch". Used with an upsert, an absent
 * circuit is inserted, and a racing insert loses with a duplicate-key error, which is a lost race.
 * For a later epoch it matches only a readable document at exactly that epoch.
 */
export function casFilter(circuit: string, expectedEpoch: number): Document {
  if (expectedEpoch === 0) {
    return { _id: circuit, $nor: [validStatusFilter({ $gt: 0 })] }
  }
  return { _id: circuit, ...validStatusFilter({ $eq: expectedEpoch }) }
}

/** Filter of one circuit's bucket for one epoch second (the unique index's key). */
export function bucketFilter(circuit: string, second: number): Document {
  return { circuit, second }
}

/**
 * Adds outcomes to a bucket, creating it when absent. Both counters are always `$inc`ed (by 0
 * when unused) so a fresh bucket has both fields; `touchedAt` takes the server's time for the TTL.
 */
export function bucketIncrement(failures: number, successes: number): Document {
  return { $inc: { failures, successes }, $currentDate: { touchedAt: true } }
}

/** Zeroes a bucket whose counters are not numbers, so `$inc` can work on it again. */
export function bucketRepairFilter(circuit: string, second: number): Document {
  return { circuit, second, $nor: [validBucketFilter()] }
}

/** The update that resets a corrupt bucket. */
export const BUCKET_REPAIR_UPDATE: Document = { $set: { failures: 0, successes: 0 } }

/** Filter of every bucket of one circuit (for `clear`). */
export function circuitBucketsFilter(circuit: string): Document {
  return { circuit }
}

/** Filter of one circuit's buckets inside a window. */
export function windowFilter(circuit: string, nowMs: number, windowMs: number): Document {
  const { from, to } = windowRange(nowMs, windowMs)
  const second: Document = Number.isFinite(from) ? { $gt: from, $lte: to } : { $lte: to }
  return { circuit, second }
}

/**
 * Sums a window's buckets in one round trip. Unusable buckets are counted as absent (0) and
 * their number is answered as `corrupt`, so the storage can look them up and report them.
 */
export function countPipeline(circuit: string, nowMs: number, windowMs: number): Document[] {
  return [
    { $match: windowFilter(circuit, nowMs, windowMs) },
    {
      $group: {
        _id: null,
        // A counter past MAX_COUNT counts as MAX_COUNT: counts saturate instead of losing precision.
        failures: { $sum: { $cond: [VALID_BUCKET_EXPR, { $min: ['$failures', MAX_COUNT] }, 0] } },
        successes: { $sum: { $cond: [VALID_BUCKET_EXPR, { $min: ['$successes', MAX_COUNT] }, 0] } },
        corrupt: { $sum: { $cond: [VALID_BUCKET_EXPR, 0, 1] } },
      },
    },
  ]
}

/** Filter of the unusable buckets of a window (looked up only after `countPipeline` saw some). */
export function corruptBucketsFilter(circuit: string, nowMs: number, windowMs: number): Document {
  return { ...windowFilter(circuit, nowMs, windowMs), $nor: [validBucketFilter()] }
}

/** Filter of one circuit's lease document. */
export function leaseFilter(circuit: string): Document {
  return { _id: circuit }
}

/**
 * Atomically drops lapsed permits and adds `holder` if fewer than `max` remain, in one
 * pipeline update on one document (no transaction). Holders that are not `{ expiresAt: number }`
 * count as lapsed, so a damaged lease document heals on the next acquire.
 */
export function acquirePipeline(nowMs: number, max: number, holder: { id: string; expiresAt: number }): Document[] {
  return [
    {
      $set: {
        holders: {
          $let: {
            vars: {
              live: {
                $filter: {
                  input: { $cond: [{ $isArray: '$holders' }, '$holders', []] },
                  as: 'h',
                  cond: { $and: [{ $isNumber: '$$h.expiresAt' }, { $gt: ['$$h.expiresAt', nowMs] }] },
                },
              },
            },
            in: {
              $cond: [
                { $lt: [{ $size: '$$live' }, max] },
                // $literal: the id is data, never an expression or a field path.
                { $concatArrays: ['$$live', { $literal: [{ id: holder.id, expiresAt: holder.expiresAt }] }] },
                '$$live',
              ],
            },
          },
        },
      },
    },
  ]
}

/** Filter for giving a permit back (only where `holders` is an array, so `$pull` cannot fail). */
export function releaseFilter(circuit: string): Document {
  return { _id: circuit, holders: { $type: 'array' } }
}

/** Removes one permit by id; a second release matches nothing and does nothing. */
export function releaseUpdate(id: string): Document {
  return { $pull: { holders: { id } } }
}

/** The change stream pipeline: status writes, and deletes (`clear`), which subscribers hear as resync notices. */
export const CHANGE_STREAM_PIPELINE: Document[] = [
  { $match: { operationType: { $in: ['insert', 'replace', 'update', 'delete'] } } },
]
