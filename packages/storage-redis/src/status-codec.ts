import { isCircuitState } from '@breaker/core'
import type { StatusRecord } from '@breaker/core'

/** The four hash fields of a stored status, as strings (`openedAt` '' means null). */
export type StatusFields = readonly [status: string, openedAt: string, epoch: string, updatedAt: string]

/** Flattens a record into the hash fields the scripts write. */
export function encodeStatus(record: StatusRecord): StatusFields {
  return [record.status, record.openedAt === null ? '' : String(record.openedAt), String(record.epoch), String(record.updatedAt)]
}

/**
 * Rebuilds a record from `HMGET s o e u` (any of them may be null when the hash is absent).
 * Answers `null` for an absent status; throws on a hash no writer of ours produced.
 */
export function decodeStatus(fields: ReadonlyArray<unknown>): StatusRecord | null {
  const [status, openedAt, epoch, updatedAt] = fields.map((value) => (value == null ? null : String(value)))
  if (status == null) return null
  if (!isCircuitState(status)) throw new TypeError(`stored status is not a circuit state: ${JSON.stringify(status)}`)
  return {
    status,
    openedAt: openedAt == null || openedAt === '' ? null : Number(openedAt),
    epoch: Number(epoch ?? 0),
    updatedAt: Number(updatedAt ?? 0),
  }
}

/**
 * A message on the status channel: a write (`r` set), a clear (`r` null) or a clearAll (`all`).
 * `i` and `n` name the writing storage instance and its write sequence number.
 */
export type ChannelMessage =
  | { readonly c: string; readonly r: StatusRecord | null; readonly i?: string; readonly n?: number }
  | { readonly all: true }

/** Serialises a message for the status channel. */
export function encodeMessage(message: ChannelMessage): string {
  return JSON.stringify(message)
}

/** Parses a channel message; throws on anything that is not one. */
export function decodeMessage(raw: string): ChannelMessage {
  const value = JSON.parse(raw) as Record<string, unknown>
  if (value['all'] === true) return { all: true }
  const circuit = value['c']
  const record = value['r'] as Record<string, unknown> | null | undefined
  if (typeof circuit !== 'string' || record === undefined) throw new TypeError(`not a status message: ${raw.slice(0, 200)}`)
  const origin = typeof value['i'] === 'string' && typeof value['n'] === 'number' ? { i: value['i'], n: value['n'] } : {}
  if (record === null) return { c: circuit, r: null, ...origin }
  if (!isCircuitState(record['status'])) throw new TypeError(`not a status message: ${raw.slice(0, 200)}`)
  return {
    c: circuit,
    r: {
      status: record['status'],
      openedAt: typeof record['openedAt'] === 'number' ? record['openedAt'] : null,
      epoch: Number(record['epoch']),
      updatedAt: Number(record['updatedAt']),
    },
    ...origin,
  }
}
