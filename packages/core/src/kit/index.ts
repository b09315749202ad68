/**
 * `@breaker/core/kit`: what every storage backend needs — decoding and validating what it reads
 * back, name checks, deadlines, error wrapping, listener fan-out with resync notices, record
 * emulation, lease and retain tables, and an in-process reference storage to copy.
 * Zero dependencies, like the rest of core.
 */
export { copyStatus, decodeStatus, readStoredStatus, reportCorrupt, statusProblem } from './status-codec.js'
export type { StatusDecoding, StoredValueSource } from './status-codec.js'
export {
  MAX_COUNT,
  MAX_EPOCH_MS,
  MAX_TIMER_MS,
  decodeCount,
  decodeEpochMs,
  isCount,
  isEpochMs,
  saturatingAdd,
} from './numbers.js'
export { checkCircuitName, nameBytes } from './names.js'
export { guardDeadline, toStorageError } from './deadline-guard.js'
export type { OperationSource } from './deadline-guard.js'
export { IdleRelease } from './idle-release.js'
export { Retainers } from './retainers.js'
export { ReferenceStorage } from './reference-storage.js'
export type { ReferenceStorageOptions } from './reference-storage.js'
export { StatusListeners } from '../status-listeners.js'
export { LeaseTable } from '../lease-table.js'
export { withDeadline } from '../deadline.js'
export {
  readCounts,
  writeManyThenCount as emulateRecordBatch,
  writeThenCount as emulateRecord,
  recordOutcome,
  recordMany,
} from '../storage-ops.js'
