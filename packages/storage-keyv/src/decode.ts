import { decodeCount, reportCorrupt, saturatingAdd } from '@breaker/core/kit'
import type { StoredValueSource } from '@breaker/core/kit'
import type { StatusRecord, WindowCounts } from '@breaker/core'

/** A status as stored: a plain JSON-safe object. */
export interface StoredStatus {
  readonly status: StatusRecord['status']
  readonly openedAt: number | null
  readonly epoch: number
  readonly updatedAt: number
  readonly backoff?: number
  readonly holds?: number
}

/**
 * The value stored for a status: its own fields only (never whatever else the object carries),
 * with `backoff` and `holds` — which every instance must agree on — kept when above 0 and left
 * out otherwise, as the kit's decoder leaves them out, so a record reads back as it was written.
 */
export function encodeStatus(record: StatusRecord): StoredStatus {
  const { status, openedAt, epoch, updatedAt, backoff, holds } = record
  return { status, openedAt, epoch, updatedAt, ...(backoff ? { backoff } : {}), ...(holds ? { holds } : {}) }
}

/** What one writer stores for one circuit: its generation and its non-empty buckets `[index, failures, successes]`. */
export interface WriterData {
  readonly g: string
  readonly b: ReadonlyArray<readonly [number, number, number]>
}

/** A writer slot's value: which writer holds it. */
export interface SlotData {
  readonly w: string
}

const WRITER_ID = /^[\w.-]{1,100}$/

/**
 * Decodes a writer value as read back from the store. Counts may come back as numbers or as
 * decimal strings (a store that serialises loosely, a hand-edited value) and go through the
 * kit's `decodeCount`; anything else — `'041'`, a negative, a fraction, a bucket index that is
 * not a safe integer, a missing generation — makes the whole value corrupt: reported on
 * `breaker:storage:error` and read as absent. `null`/`undefined` is absent without a report.
 */
export function decodeWriterValue(value: unknown, source: StoredValueSource): WriterData | undefined {
  if (value === undefined || value === null) return undefined
  const problem = writerProblem(value)
  if (typeof problem === 'string') {
    reportCorrupt(source, `writer value: ${problem}`, value)
    return undefined
  }
  return problem
}

function writerProblem(value: unknown): string | WriterData {
  if (typeof value !== 'object') return 'not an object'
  const { g, b } = value as { g?: unknown; b?: unknown }
  if (typeof g !== 'string') return 'its generation is not a string'
  if (!Array.isArray(b)) return 'its buckets are not an array'
  const buckets: Array<[number, number, number]> = []
  for (const bucket of b as unknown[]) {
    if (!Array.isArray(bucket) || bucket.length !== 3) return 'a bucket is not [index, failures, successes]'
    const [index, f, s] = bucket as unknown[]
    if (!Number.isSafeInteger(index)) return 'a bucket index is not a safe integer'
    const failures = decodeCount(f)
    const successes = decodeCount(s)
    if (failures === undefined || successes === undefined) return 'a bucket count is not a safe integer >= 0'
    buckets.push([index as number, failures, successes])
  }
  return { g, b: buckets }
}

/**
 * Decodes a writer slot: the writer id it holds, or `undefined` for a free slot. A slot holding
 * anything but `{ w: <writer id> }` is reported and read as free, so a writer can claim it again.
 */
export function decodeSlot(value: unknown, source: StoredValueSource): string | undefined {
  if (value === undefined || value === null) return undefined
  const w = typeof value === 'object' ? (value as { w?: unknown }).w : undefined
  if (typeof w === 'string' && WRITER_ID.test(w)) return w
  reportCorrupt(source, 'writer slot is not { w: <writer id> }', value)
  return undefined
}

/** Sums decoded writer values over buckets `[first, last]`, counting only the current generation; saturates at `MAX_COUNT`. */
export function sumWindow(values: ReadonlyArray<WriterData | undefined>, generation: string, first: number, last: number): WindowCounts {
  let failures = 0
  let successes = 0
  for (const data of values) {
    if (data === undefined || data.g !== generation) continue
    for (const [index, f, s] of data.b) {
      if (index >= first && index <= last) {
        failures = saturatingAdd(failures, f)
        successes = saturatingAdd(successes, s)
      }
    }
  }
  return { failures, successes }
}
