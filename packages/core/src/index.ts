export { BaseStorage } from './base-storage.js'
export { CHANNELS } from './channels.js'
export type {
  CallContext,
  CallOutcome,
  HookErrorMessage,
  RejectMessage,
  StorageBackendHealthMessage,
  StorageBackendSkippedMessage,
  StorageChainOperationMessage,
  StorageErrorMessage,
  StorageFallbackMessage,
  StorageOperationMessage,
  TransitionMessage,
} from './channels.js'
export {
  BreakerError,
  CircuitBulkheadError,
  CircuitOpenError,
  CircuitTimeoutError,
  ConfigurationError,
  StorageError,
  StorageTimeoutError,
  isBreakerError,
  isCircuitBulkheadError,
  isCircuitOpenError,
  isCircuitState,
  isCircuitTimeoutError,
  isConfigurationError,
  isStorageError,
  isStorageTimeoutError,
} from './errors.js'
export type { BreakerErrorCode, RejectReason } from './errors.js'
export { attempt, isThenable, then } from './maybe.js'
export { NullStorage } from './null-storage.js'
export type { Storage } from './storage.js'
export type {
  CircuitState,
  Clock,
  EventLogEntry,
  MaybePromise,
  Outcome,
  ProbeLease,
  StatusChange,
  StatusListener,
  StatusRecord,
  StorageCapabilities,
  WindowCounts,
} from './types.js'
