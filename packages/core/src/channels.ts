import diagnostics from 'node:diagnostics_channel'
import type { RejectReason, StorageError } from './errors.js'
import type { CircuitState } from './types.js'

/**
 * Names of every diagnostics channel @breaker publishes on. Subscribers (such as
 * `@breaker/otel`) use these; with nobody subscribed, publishing costs one boolean check.
 */
export const CHANNELS = {
  /** {@link TransitionMessage}: a circuit changed state (published by the instance that made the change). */
  transition: 'breaker:circuit:transition',
  /** {@link RejectMessage}: a call was turned away without running. */
  reject: 'breaker:circuit:reject',
  /** {@link HookErrorMessage}: a user hook threw; the call went on. */
  hookError: 'breaker:circuit:hook_error',
  /** {@link StorageErrorMessage}: a storage operation failed; the circuit failed open or threw. */
  storageError: 'breaker:storage:error',
  /** {@link StorageOperationMessage}: one backend of a fallback chain answered an operation. */
  storageOperation: 'breaker:storage:operation',
  /** {@link StorageFallbackMessage}: a fallback chain moved from one backend to the next. */
  storageFallback: 'breaker:storage:fallback',
  /** {@link StorageBackendSkippedMessage}: a chain skipped a backend marked unhealthy. */
  storageBackendSkipped: 'breaker:storage:backend_skipped',
  /** {@link StorageBackendHealthMessage}: a chain backend became unhealthy or healthy again. */
  storageBackendHealth: 'breaker:storage:backend_health',
  /** {@link StorageChainOperationMessage}: a whole chain operation finished. */
  storageChainOperation: 'breaker:storage:chain_operation',
  /** Tracing channel around each protected call; its context is a {@link CallContext}. */
  call: 'breaker:call',
} as const

/** A transition, as hooks and the transition channel receive it. */
export interface TransitionMessage {
  /** Circuit name. */
  readonly circuit: string
  /** State before. */
  readonly from: CircuitState
  /** State after. */
  readonly to: CircuitState
  /** When the circuit opened (epoch ms), or `null`. */
  readonly openedAt: number | null
  /** Epoch of the new status. */
  readonly epoch: number
}

/** A rejected call. */
export interface RejectMessage {
  /** Circuit name. */
  readonly circuit: string
  /** Why the call was turned away. */
  readonly reason: RejectReason
}

/** A hook that threw. */
export interface HookErrorMessage {
  /** Circuit name. */
  readonly circuit: string
  /** Which hook: `'open'`, `'beforeTransition'`, … */
  readonly hook: string
  /** What it threw. */
  readonly error: unknown
}

/** A failed storage operation seen by a circuit. */
export interface StorageErrorMessage {
  /** Circuit name. */
  readonly circuit: string
  /** Backend name. */
  readonly storage: string
  /** Contract method that failed. */
  readonly operation: string
  /** The error, always a `StorageError`. */
  readonly error: StorageError
}

/** One backend of a chain answered (successfully) an operation. */
export interface StorageOperationMessage {
  readonly backend: string
  readonly backendIndex: number
  readonly operation: string
  readonly circuit: string | undefined
  readonly durationMs: number
}

/** A chain moved on from a failing backend (the gem's `storage_fallback` fields, camelCased). */
export interface StorageFallbackMessage {
  readonly backend: string
  readonly nextBackend: string | null
  readonly operation: string
  readonly errorClass: string
  readonly errorMessage: string
  readonly durationMs: number
  readonly backendIndex: number
  readonly circuit: string | undefined
}

/** A chain skipped a backend it considers unhealthy. */
export interface StorageBackendSkippedMessage {
  readonly backend: string
  readonly backendIndex: number
  readonly operation: string
  readonly circuit: string | undefined
  /** Until when the backend is skipped (epoch ms). */
  readonly unhealthyUntil: number
}

/** A chain backend changed health. */
export interface StorageBackendHealthMessage {
  readonly backend: string
  readonly backendIndex: number
  readonly healthy: boolean
  readonly consecutiveFailures: number
  /** Until when it will be skipped (epoch ms), when unhealthy. */
  readonly unhealthyUntil: number | null
}

/** A whole chain operation finished, on whichever backend answered. */
export interface StorageChainOperationMessage {
  readonly operation: string
  readonly circuit: string | undefined
  /** Backend that answered, or `null` when none did. */
  readonly backend: string | null
  readonly backendIndex: number
  readonly durationMs: number
  readonly success: boolean
}

/** How a protected call ended, as seen on the `breaker:call` tracing channel. */
export type CallOutcome = 'success' | 'failure' | 'rejected' | 'timeout' | 'fallback'

/**
 * Context object of the `breaker:call` tracing channel. Core fills `state` at admission and
 * `outcome` before the traced promise settles, so `asyncStart`/`asyncEnd` subscribers see both.
 */
export interface CallContext {
  /** Circuit name. */
  readonly circuit: string
  /** State the call was admitted (or rejected) under. */
  state: CircuitState
  /** How the call ended; set before the traced promise settles. */
  outcome?: CallOutcome
  /** Set by the tracing channel when the call resolves. */
  result?: unknown
  /** Set by the tracing channel when the call rejects. */
  error?: unknown
}

/** The channel objects themselves, created once. */
export const channels = {
  transition: diagnostics.channel(CHANNELS.transition),
  reject: diagnostics.channel(CHANNELS.reject),
  hookError: diagnostics.channel(CHANNELS.hookError),
  storageError: diagnostics.channel(CHANNELS.storageError),
  storageOperation: diagnostics.channel(CHANNELS.storageOperation),
  storageFallback: diagnostics.channel(CHANNELS.storageFallback),
  storageBackendSkipped: diagnostics.channel(CHANNELS.storageBackendSkipped),
  storageBackendHealth: diagnostics.channel(CHANNELS.storageBackendHealth),
  storageChainOperation: diagnostics.channel(CHANNELS.storageChainOperation),
  call: diagnostics.tracingChannel<CallContext>(CHANNELS.call),
}

/**
 * Publishes only when somebody listens, so an idle channel costs one boolean check.
 * Node itself isolates subscribers: one that throws does not reach the publisher (Node
 * re-raises it on a later tick), so subscribers must not throw — `@breaker/otel` guards its own.
 */
export function publish(channel: diagnostics.Channel, message: unknown): void {
  if (channel.hasSubscribers) channel.publish(message)
}
