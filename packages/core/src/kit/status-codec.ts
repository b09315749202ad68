import { channels } from '../channels.js'
import { StorageError } from '../errors.js'
import type { CircuitState, StatusRecord } from '../types.js'
import { decodeCount, decodeEpochMs } from './numbers.js'

/** What decoding a stored status gives: a fresh, valid record, or why the value is corrupt. */
export type StatusDecoding = { readonly record: StatusRecord } | { readonly corrupt: string }

/** Where a stored value came from, for the report of a corrupt one. */
export interface StoredValueSource {
  /** Backend name (`storage.name`). */
  readonly storage: string
  /** Circuit the value belongs to. */
  readonly circuit: string
  /** Contract method (or push) that read it, e.g. `'getStatus'`, `'subscribe'`. */
  readonly operation: string
}

const STATES: ReadonlySet<string> = new Set<CircuitState>(['closed', 'open', 'half_open'])

/**
 * Decodes a status as a backend stored it: an object with `status`, `openedAt`, `epoch` and
 * `updatedAt`, whose numbers may be numbers or plain decimal strings (Redis hashes), and whose
 * `openedAt` may be `null`, `undefined` or `''` for "never opened". The one rule for every
 * backend: `status` is a circuit state, `epoch` a safe integer ≥ 0, times are epoch ms a `Date`
 * can hold, and an open or half-open status says when it opened. The optional `backoff` and
 * `holds` are safe integers ≥ 0 (absent, empty or 0 leave them out). Extra fields are dropped.
 */
export function decodeStatus(value: unknown): StatusDecoding {
  if (typeof value !== 'object' || value === null) return { corrupt: `not an object: ${describe(value)}` }
  const { status, openedAt, epoch, updatedAt } = value as Record<string, unknown>
  if (typeof status !== 'string' || !STATES.has(status)) {
    return { corrupt: `status is not 'closed', 'open' or 'half_open': ${describe(status)}` }
  }
  const e = decodeCount(epoch)
  if (e === undefined) return { corrupt: `epoch is not a safe integer >= 0: ${describe(epoch)}` }
  const u = decodeEpochMs(updatedAt)
  if (u === undefined) return { corrupt: `updatedAt is not epoch ms: ${describe(updatedAt)}` }
  let opened: number | null = null
  if (openedAt !== null && openedAt !== undefined && openedAt !== '') {
    const o = decodeEpochMs(openedAt)
    if (o === undefined) return { corrupt: `openedAt is neither empty nor epoch ms: ${describe(openedAt)}` }
    opened = o
  } else if (status !== 'closed') {
    return { corrupt: `a ${status} status has no openedAt` }
  }
  const record: { -readonly [K in keyof StatusRecord]: StatusRecord[K] } = { status: status as CircuitState, openedAt: opened, epoch: e, updatedAt: u }
  // Optional counters: absent, empty or 0 all mean 0, and 0 is left out so records stay minimal.
  for (const field of ['backoff', 'holds'] as const) {
    const raw = (value as Record<string, unknown>)[field]
    if (raw === undefined || raw === null || raw === '') continue
    const n = decodeCount(raw)
    if (n === undefined) return { corrupt: `${field} is not a safe integer >= 0: ${describe(raw)}` }
    if (n > 0) record[field] = n
  }
  return { record }
}

/**
 * A frozen copy of a status record holding exactly the contract's fields — the optional
 * `backoff` and `holds` only when above 0 — for an in-process storage to keep, so a caller
 * mutating its own object cannot change what is stored.
 */
export function copyStatus(record: StatusRecord): StatusRecord {
  const copy: { -readonly [K in keyof StatusRecord]: StatusRecord[K] } = {
    status: record.status,
    openedAt: record.openedAt,
    epoch: record.epoch,
    updatedAt: record.updatedAt,
  }
  if ((record.backoff ?? 0) > 0) copy.backoff = record.backoff!
  if ((record.holds ?? 0) > 0) copy.holds = record.holds!
  return Object.freeze(copy)
}

/** Why `record` is not a valid status record, or `undefined` when it is one. */
export function statusProblem(record: unknown): string | undefined {
  const decoded = decodeStatus(record)
  return 'corrupt' in decoded ? decoded.corrupt : undefined
}

/**
 * Reads a stored status: `null`/`undefined` is absent; a valid value is decoded; a corrupt
 * one is reported on `breaker:storage:error` (a `StorageError` with code
 * `ERR_STORAGE_CORRUPT`) and read as absent, so the circuit goes on as if it were never written.
 */
export function readStoredStatus(value: unknown, source: StoredValueSource): StatusRecord | null {
  if (value === null || value === undefined) return null
  const decoded = decodeStatus(value)
  if ('record' in decoded) return decoded.record
  reportCorrupt(source, decoded.corrupt, value)
  return null
}

/**
 * Reports a stored value that is not valid on `breaker:storage:error`; answers the error. For
 * backends decoding something other than a status (a count, a pub/sub message).
 */
export function reportCorrupt(source: StoredValueSource, problem: string, value?: unknown): StorageError {
  const error = new StorageError(
    source.storage,
    source.operation,
    `[@breaker/core] storage '${source.storage}' holds a corrupt value for circuit '${source.circuit}' (${problem}); it is read as absent`,
    { circuit: source.circuit, code: 'ERR_STORAGE_CORRUPT', cause: value },
  )
  if (channels.storageError.hasSubscribers) {
    channels.storageError.publish({ circuit: source.circuit, storage: source.storage, operation: source.operation, error })
  }
  return error
}

/** A short, safe rendering of a received value for error messages. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
