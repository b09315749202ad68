import type { CircuitState, StatusRecord } from '@breaker/core'

/** Version written into every status document, so a later format can tell old documents apart. */
export const STATUS_DOCUMENT_VERSION = 1

/** The three persisted states; anything else in a document makes it corrupt. */
export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open']

/**
 * One circuit's shared status: `{ _id: <circuit name>, v: 1, status, openedAt, epoch, updatedAt }`.
 * Times are epoch ms. The name is the `_id`, so the document is found by an equality on a
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
}

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

/** True for a number that is neither NaN nor ±Infinity. */
function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/**
 * Reads a status document into the contract's record, or explains why it cannot.
 * The rules are the same as {@link validStatusFilter} applies on the server, so a document the
 * reader calls corrupt is one compare-and-set treats as absent, and the two never disagree.
 */
export function parseStatusDocument(doc: unknown): { record: StatusRecord } | { corrupt: string } {
  if (typeof doc !== 'object' || doc === null) return { corrupt: 'not a document' }
  const { status, openedAt, epoch, updatedAt } = doc as Record<string, unknown>
  if (typeof status !== 'string' || !(CIRCUIT_STATES as readonly string[]).includes(status)) {
    return { corrupt: `status is not one of ${CIRCUIT_STATES.join(', ')}` }
  }
  if (!isFiniteNumber(epoch) || epoch < 0 || epoch > Number.MAX_SAFE_INTEGER) {
    return { corrupt: 'epoch is not a non-negative number' }
  }
  if (!isFiniteNumber(updatedAt)) return { corrupt: 'updatedAt is not a finite number (epoch ms)' }
  if (openedAt !== null && !isFiniteNumber(openedAt)) {
    return { corrupt: 'openedAt is neither null nor a finite number (epoch ms)' }
  }
  // A fresh object: the document's `_id`, `v` and any stray fields never leak to the caller.
  return { record: { status: status as CircuitState, openedAt, epoch, updatedAt } }
}

/** The document written for a record: only the contract's fields, plus the format version. */
export function statusDocumentBody(record: StatusRecord): Omit<StatusDocument, '_id'> {
  return {
    v: STATUS_DOCUMENT_VERSION,
    status: record.status,
    openedAt: record.openedAt,
    epoch: record.epoch,
    updatedAt: record.updatedAt,
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
 * Matches a finite BSON number: type bracketing keeps strings and dates out, and NaN sorts
 * below -Infinity, so the strict bounds exclude it too.
 */
function finiteNumber(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { $type: NUMERIC, $gt: -Infinity, $lt: Infinity, ...extra }
}

/**
 * Server-side twin of {@link parseStatusDocument}: matches exactly the status documents the
 * reader accepts. `epoch` may be narrowed (compare-and-set pins it to the expected value).
 */
export function validStatusFilter(epoch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: { $in: [...CIRCUIT_STATES] },
    epoch: finiteNumber({ $gte: 0, $lte: Number.MAX_SAFE_INTEGER, ...epoch }),
    updatedAt: finiteNumber(),
    $or: [{ openedAt: { $type: 'null' } }, { openedAt: finiteNumber() }],
  }
}

/** Matches bucket documents whose two counters are usable (non-negative finite numbers). */
export function validBucketFilter(): Record<string, unknown> {
  return {
    failures: finiteNumber({ $gte: 0 }),
    successes: finiteNumber({ $gte: 0 }),
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
  ],
} as const
