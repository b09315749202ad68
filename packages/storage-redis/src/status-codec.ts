import { decodeStatus } from '@breaker/core/kit'
import type { StatusDecoding } from '@breaker/core/kit'
import type { StatusRecord, StorageNotice } from '@breaker/core'

/** The hash fields of a stored status, in the order the scripts read and write them. */
export const STATUS_FIELDS = ['s', 'o', 'e', 'u', 'b', 'h'] as const

/**
 * A stored status as strings: `openedAt` '' means null; `backoff` and `holds` '' mean 0 (the
 * scripts delete those fields then, so hashes stay minimal and older hashes, which lack them, read the same).
 */
export type StatusFields = readonly [status: string, openedAt: string, epoch: string, updatedAt: string, backoff: string, holds: string]

/** Flattens a record into the hash fields the scripts write. */
export function encodeStatus(record: StatusRecord): StatusFields {
  return [
    record.status,
    record.openedAt === null ? '' : String(record.openedAt),
    String(record.epoch),
    String(record.updatedAt),
    record.backoff ? String(record.backoff) : '',
    record.holds ? String(record.holds) : '',
  ]
}

/**
 * Decodes `HMGET s o e u b h` through core's one validator. Answers `null` when the hash is
 * absent (every field missing); a hash that is present but not a valid status is `{ corrupt }`.
 */
export function decodeStatusFields(fields: ReadonlyArray<unknown>): StatusDecoding | null {
  if (fields.every((field) => field == null)) return null
  const [status, openedAt, epoch, updatedAt, backoff, holds] = fields
  return decodeStatus({ status, openedAt, epoch, updatedAt, backoff, holds })
}

/**
 * A message on the status channel: a write (`r` set), a clear (`r` null) or a clearAll (`all`).
 * `i` and `n` name the writing storage instance and its write's sequence number, so the writer
 * knows when its own message is back.
 */
export type ChannelMessage =
  | { readonly c: string; readonly r: StatusRecord | null; readonly i?: string; readonly n?: number }
  | { readonly all: true }

/** Serialises a message for the status channel. */
export function encodeMessage(message: ChannelMessage): string {
  return JSON.stringify(message)
}

/**
 * What a channel message means to listeners: a status change, a resync of one circuit (a
 * clear) or of all (a clearAll) — or why it is corrupt, with the circuit it names if any.
 */
export type MessageDecoding =
  | { readonly notice: StorageNotice; readonly origin?: string; readonly sequence?: number }
  | { readonly corrupt: string; readonly circuit?: string }

/** Decodes a raw channel message; never throws, whatever arrives. */
export function decodeMessage(raw: unknown): MessageDecoding {
  if (typeof raw !== 'string') return { corrupt: `not a string message: ${typeof raw}` }
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return { corrupt: `not JSON: ${preview(raw)}` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { corrupt: `not an object: ${preview(raw)}` }
  const fields = value as Record<string, unknown>
  if (fields['all'] === true) return { notice: { resync: true } }
  const circuit = fields['c']
  if (typeof circuit !== 'string' || circuit === '') return { corrupt: `names no circuit: ${preview(raw)}` }
  const origin = typeof fields['i'] === 'string' && typeof fields['n'] === 'number' ? { origin: fields['i'], sequence: fields['n'] } : {}
  const record = fields['r']
  if (record === null) return { notice: { resync: true, circuit }, ...origin }
  const decoded = decodeStatus(record)
  if ('corrupt' in decoded) return { corrupt: decoded.corrupt, circuit }
  return { notice: { circuit, record: decoded.record }, ...origin }
}

function preview(raw: string): string {
  return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)
}
