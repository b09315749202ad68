import diagnostics from 'node:diagnostics_channel'

/**
 * Diagnostics channels this package publishes on (`node:diagnostics_channel`, like core's).
 * Nobody subscribed costs one boolean check.
 */
export const MONGO_CHANNELS = {
  /** {@link CorruptDocumentReport}: a document could not be read and was treated as absent. */
  corrupt: 'breaker:storage:corrupt',
  /** {@link ChangeStreamErrorReport}: the status change stream failed and was closed. */
  changeStreamError: 'breaker:storage:change_stream_error',
} as const

/** A document MongoStorage could not read; it was treated as absent (no status, zero counts). */
export interface CorruptDocumentReport {
  /** Backend name (`storage.name`, `'mongo'` by default). */
  readonly storage: string
  /** The contract method that met it, e.g. `'getStatus'`, or `'subscribe'` for a change event. */
  readonly operation: string
  /** Collection name the document lives in. */
  readonly collection: string
  /** Circuit concerned, when known. */
  readonly circuit: string | undefined
  /** What is wrong with it, e.g. `'epoch is not a non-negative number'`. */
  readonly reason: string
  /** The document as read. */
  readonly document: unknown
}

/** The status change stream failed with an error the driver could not resume from. */
export interface ChangeStreamErrorReport {
  /** Backend name. */
  readonly storage: string
  /** Status collection name. */
  readonly collection: string
  /** The driver's error. */
  readonly error: unknown
}

const corruptChannel = diagnostics.channel(MONGO_CHANNELS.corrupt)
const changeStreamErrorChannel = diagnostics.channel(MONGO_CHANNELS.changeStreamError)

/**
 * Reports a corrupt document to the `onCorrupt` option and the `breaker:storage:corrupt`
 * channel. Reporting never breaks the read that found it: a throwing callback is ignored.
 */
export function reportCorrupt(report: CorruptDocumentReport, onCorrupt: ((report: CorruptDocumentReport) => void) | undefined): void {
  if (corruptChannel.hasSubscribers) corruptChannel.publish(report)
  if (onCorrupt === undefined) return
  try {
    onCorrupt(report)
  } catch {
    // The user's callback failing is theirs to see; the storage answers the read regardless.
  }
}

/** Publishes a change stream failure on `breaker:storage:change_stream_error`. */
export function reportChangeStreamError(report: ChangeStreamErrorReport): void {
  if (changeStreamErrorChannel.hasSubscribers) changeStreamErrorChannel.publish(report)
}
