import type { CircuitState, StatusRecord } from '@breaker/core'
import { MAX_EPOCH_MS, decodeStatus } from '@breaker/core/kit'
import type { StatusDecoding } from '@breaker/core/kit'

/** Version written into every status document, so a later format can tell old documents apart. */
export const STATUS_DOCUMENT_VERSION = 1

/** The three persisted states; anything else in a document makes it corrupt. */
export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open']

/**
 * One circuit's shared status: `{ _id: <circuit name>, v: 1, status, openedAt, epoch, updatedAt }`,
 * plus `backoff` and `holds` when above 0 (a document without them means 0). Times are epoch ms. The name is the `_id`, so the document is found by an equality on a
 * string value and never by a path built from the name.
 */
export interface StatusDocument {
  /** The circuit name, verbatim. */
  readonly _id: string
  /** Document format version ({@link STATUS_DOCUMENT_VERSION}). */
  readonly v: number
  readonly status: CircuitState
  readonly openedAt: number | null
  readonly epoch: number
  readonly updatedAt: number
  /** Reopenings since the circuit last closed (the exponent of `resetBackoff`); absent means 0. */
  readonly backoff?: number
  /** Isolation holds in force (`isolate()`); absent means 0. */
  readonly holds?: number
}

/** The optional counters of a status; a document without one (or with `null`) means 0. */
const COUNTERS = ['backoff', 'holds'] as const

/**
 * Outcome counts of one circuit during one epoch second:
 * `{ _id: ObjectId, circuit, second, failures, successes, touchedAt }`.
 * `touchedAt` is the server's time of the last write (a BSON Date), the field the TTL index
 * expires the bucket by; `second` comes from the storage's injected clock.
 */
export interface BucketDocument {
  /** The circuit name, verbatim. */
  readonly circuit: string
  /** `Math.floor(clock() / 1000)`: the epoch second the outcomes fell in. */
  readonly second: number
  readonly failures: number
  readonly successes: number
  /** Server time of the last `$inc` (set with `$currentDate`), read by the TTL monitor. */
  readonly touchedAt: Date
}

/** One probe permit inside a lease document. */
export interface LeaseHolder {
  /** Random id (`crypto.randomUUID()`). */
  readonly id: string
  /** When the permit lapses (epoch ms, from the injected clock). */
  readonly expiresAt: number
}

/** The half-open probe permits of one circuit: `{ _id: <circuit name>, holders: [{ id, expiresAt }] }`. */
export interface LeaseDocument {
  readonly _id: string
  readonly holders: readonly LeaseHolder[]
}

/**
 * Reads a status document into the contract's record, or explains why it cannot. The validity
 * rules are core's, one for every backend (`decodeStatus` of `@breaker/core/kit`): a known
 * state, an epoch that is a safe integer >= 0, times in epoch ms a `Date` can hold, and an
 * `openedAt` for an open or half-open status. On top of them a document holds its numbers as
 * BSON numbers (the kit also reads decimal strings, which only a foreign writer puts here).
 * {@link validStatusFilter} applies the same rules on the server, so a document the reader calls
 * corrupt is one compare-and-set treats as absent, and the two never disagree.
 */
export function parseStatusDocument(doc: unknown): StatusDecoding {
  if (typeof doc !== 'object' || doc === null) return { corrupt: 'not a document' }
  const { openedAt, epoch, updatedAt } = doc as Record<string, unknown>
  if (typeof epoch !== 'number') return { corrupt: 'epoch is not a BSON number' }
  if (typeof updatedAt !== 'number') return { corrupt: 'updatedAt is not a BSON number (epoch ms)' }
  if (openedAt !== null && openedAt !== undefined && typeof openedAt !== 'number') {
    return { corrupt: 'openedAt is neither null nor a BSON number (epoch ms)' }
  }
  for (const field of COUNTERS) {
    const value = (doc as Record<string, unknown>)[field]
    if (value !== null && value !== undefined && typeof value !== 'number') return { corrupt: `${field} is neither absent nor a BSON number` }
  }
  // A fresh object: the document's `_id`, `v` and any stray fields never leak to the caller.
  return decodeStatus(doc)
}

/**
 * The document written for a record: only the contract's fields, plus the format version.
 * `backoff` and `holds` are written when above 0 and left out otherwise, as the reader leaves
 * them out, so a record reads back as it was written; a replacement drops the previous ones.
 */
export function statusDocumentBody(record: StatusRecord): Omit<StatusDocument, '_id'> {
  return {
    v: STATUS_DOCUMENT_VERSION,
    status: record.status,
    openedAt: record.openedAt,
    epoch: record.epoch,
    updatedAt: record.updatedAt,
    ...(record.backoff ? { backoff: record.backoff } : {}),
    ...(record.holds ? { holds: record.holds } : {}),
  }
}

/** Why `record` cannot be written, or `null` when it is a well-formed status record. */
export function invalidRecordReason(record: unknown): string | null {
  const parsed = parseStatusDocument(record)
  return 'corrupt' in parsed ? parsed.corrupt : null
}

/** BSON numeric types the reader accepts (Decimal128 comes back as an object, so it is excluded). */
const NUMERIC = ['int', 'long', 'double']

/**
 * Matches a BSON number in `[min, max]`: type bracketing keeps strings and dates out, and NaN
 * sorts below every number, so the bounds exclude it (and ±Infinity) too.
 */
function numberIn(min: number, max: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { $type: NUMERIC, $gte: min, $lte: max, ...extra }
}

/** An aggregation expression: true when `path` holds a whole number (`$isNumber` first, so `$trunc` never sees a string). */
function wholeExpr(path: string): Record<string, unknown> {
  return { $cond: [{ $isNumber: path }, { $eq: [path, { $trunc: [path] }] }, false] }
}

/** Like {@link wholeExpr}, but also true when `path` holds no number at all (the query part rules out anything but absent or null). */
function wholeIfNumberExpr(path: string): Record<string, unknown> {
  return { $cond: [{ $isNumber: path }, { $eq: [path, { $trunc: [path] }] }, true] }
}

/** Matches an optional counter: absent, `null`, or a whole BSON number in `[0, MAX_SAFE_INTEGER]` (wholeness checked in `$expr`). */
function optionalCount(field: string): Record<string, unknown> {
  return { $or: [{ [field]: null }, { [field]: numberIn(0, Number.MAX_SAFE_INTEGER) }] }
}

/**
 * Server-side twin of {@link parseStatusDocument}: matches exactly the status documents the
 * reader accepts — a known state, an epoch that is a whole BSON number in
 * `[0, MAX_SAFE_INTEGER]`, times that are BSON numbers in `[0, MAX_EPOCH_MS]`, and an
 * `openedAt` (null or missing only while closed), and `backoff` and `holds` each absent, null or
 * a whole BSON number in `[0, MAX_SAFE_INTEGER]`. `epoch` may be narrowed (compare-and-set pins it).
 */
export function validStatusFilter(epoch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: { $in: [...CIRCUIT_STATES] },
    epoch: numberIn(0, Number.MAX_SAFE_INTEGER, epoch),
    updatedAt: numberIn(0, MAX_EPOCH_MS),
    $or: [{ status: 'closed', openedAt: null }, { openedAt: numberIn(0, MAX_EPOCH_MS) }],
    $and: COUNTERS.map(optionalCount),
    $expr: { $and: [wholeExpr('$epoch'), ...COUNTERS.map((field) => wholeIfNumberExpr(`$${field}`))] },
  }
}

/**
 * Matches bucket documents whose two counters are usable: finite whole BSON numbers >= 0. A
 * counter `$inc`ed past `MAX_COUNT` is usable — it counts as `MAX_COUNT` (saturated), since
 * `$inc` itself cannot stop there.
 */
export function validBucketFilter(): Record<string, unknown> {
  return {
    failures: { $type: NUMERIC, $gte: 0, $lt: Infinity },
    successes: { $type: NUMERIC, $gte: 0, $lt: Infinity },
    $expr: { $and: [wholeExpr('$failures'), wholeExpr('$successes')] },
  }
}

/** Aggregation-expression twin of {@link validBucketFilter}, used inside `$group`. */
export const VALID_BUCKET_EXPR = {
  $and: [
    { $isNumber: '$failures' },
    { $isNumber: '$successes' },
    { $gte: ['$failures', 0] },
    { $gte: ['$successes', 0] },
    { $lt: ['$failures', Infinity] },
    { $lt: ['$successes', Infinity] },
    wholeExpr('$failures'),
    wholeExpr('$successes'),
  ],
} as const
