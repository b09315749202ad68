export { BaseStorage } from './base-storage.js'
export { withDeadline } from './deadline.js'
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
  CircuitDependencyError,
  CircuitOpenError,
  CircuitTimeoutError,
  ConfigurationError,
  StorageError,
  StorageTimeoutError,
  isBreakerError,
  isCircuitBulkheadError,
  isCircuitDependencyError,
  isCircuitOpenError,
  isCircuitState,
  isCircuitTimeoutError,
  isConfigurationError,
  isStorageError,
  isStorageTimeoutError,
} from './errors.js'
export type { BreakerErrorCode, RejectReason } from './errors.js'
export { andThen, attempt, isThenable } from './maybe.js'
export { LeaseTable } from './lease-table.js'
export { NullStorage } from './null-storage.js'
export { StatusListeners } from './status-listeners.js'
export type { Storage } from './storage.js'
export type {
  CircuitHandle,
  CircuitState,
  Clock,
  EventLogEntry,
  MaybePromise,
  Outcome,
  ProbeLease,
  ResyncNotice,
  StatusChange,
  StatusListener,
  StatusRecord,
  StorageCapabilities,
  StorageNotice,
  WindowCounts,
} from './types.js'
export { Circuit } from './circuit.js'
export type { CallAnyOptions, CircuitStats, IsolationHold, LastError, SyncInput } from './circuit.js'
export { CircuitGroup } from './group.js'
export { parallel } from './fallback.js'
export { Registry, configure, defaultRegistry as registry } from './registry.js'
export type { ConfigureOptions, ImportResult, RegistryOptions } from './registry.js'
export { MAX_SNAPSHOT_COUNT, SNAPSHOT_VERSION } from './snapshot.js'
export type { CircuitSnapshot, RegistrySnapshot } from './snapshot.js'
export type {
  AbsoluteThreshold,
  BatchOptions,
  CallOptions,
  CircuitRef,
  HedgeOptions,
  ResetBackoff,
  BeforeTransitionHook,
  CircuitHooks,
  CircuitOptions,
  Fallback,
  FallbackContext,
  FallbackEntry,
  FallbackFn,
  RateThreshold,
  StaticFallback,
  StorageErrorContext,
  Threshold,
} from './options.js'
