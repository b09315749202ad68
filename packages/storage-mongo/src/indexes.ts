import type { Collection, Document, IndexDescription } from 'mongodb'

/** Name of the unique `{ circuit: 1, second: 1 }` index on the buckets collection. */
export const BUCKET_KEY_INDEX = 'breaker_bucket_circuit_second'
/** Name of the TTL index on the buckets' `touchedAt`. */
export const BUCKET_TTL_INDEX = 'breaker_bucket_ttl'

/**
 * The indexes MongoStorage needs, all on the buckets collection (status and lease documents
 * are found by `_id`, which is always indexed):
 * - unique `{ circuit: 1, second: 1 }`: one bucket per circuit per second, so concurrent
 *   upserts of a new bucket meet (the server retries the loser as an update) and window
 *   range queries are an index scan;
 * - TTL `{ touchedAt: 1 }` with `expireAfterSeconds`: bounds storage.
 */
export function bucketIndexSpecs(retentionSeconds: number): IndexDescription[] {
  return [
    { key: { circuit: 1, second: 1 }, name: BUCKET_KEY_INDEX, unique: true },
    { key: { touchedAt: 1 }, name: BUCKET_TTL_INDEX, expireAfterSeconds: retentionSeconds },
  ]
}

/** Server codes for "an index of that name or key already exists with other options". */
const INDEX_CONFLICT_CODES = new Set([85, 86])

/**
 * Creates the bucket indexes; `createIndexes` with identical specs is a no-op, so this is safe
 * to call on every start. When only the retention changed, the TTL index is altered in place
 * with `collMod` instead of failing.
 */
export async function ensureBucketIndexes(buckets: Collection<Document>, retentionSeconds: number): Promise<void> {
  const specs = bucketIndexSpecs(retentionSeconds)
  try {
    await buckets.createIndexes(specs)
  } catch (error) {
    if (!INDEX_CONFLICT_CODES.has((error as { code?: unknown }).code as number)) throw error
    await buckets.db.command({
      collMod: buckets.collectionName,
      index: { name: BUCKET_TTL_INDEX, expireAfterSeconds: retentionSeconds },
    })
    // Anything still conflicting (say, a foreign index on the same key) surfaces here.
    await buckets.createIndexes(specs)
  }
}
