import type {
  Clock,
  Storage,
  StorageBackendHealthMessage,
  StorageBackendSkippedMessage,
  StorageChainOperationMessage,
  StorageFallbackMessage,
  StorageOperationMessage,
} from '@breaker/core'

/** One link of a chain: a storage and how long it may take to answer one operation. */
export interface ChainEntry {
  /** The backend. */
  readonly storage: Storage
  /**
   * Deadline of one operation on this backend (ms). An operation that has not answered by then
   * is abandoned and the next backend is tried; its late answer is ignored.
   * Defaults to the chain's `timeout` option.
   */
  readonly timeout?: number
}

/**
 * The named form of the Ruby gem BreakerMachines, `{ primary, fallback, final }`: any keys, tried in insertion order.
 * Integer-like keys (`'0'`, `'1'`) are ordered first by JavaScript itself; use words.
 */
export type NamedChain = Readonly<Record<string, ChainEntry>>

/**
 * The dynamic form of the Ruby gem BreakerMachines: called once at construction with the chain's `timeout` option
 * (ms), answers the entries, so a timeout budget can be split between backends.
 */
export type ChainFactory = (budget: { readonly timeout: number }) => readonly ChainEntry[]

/** Every form a chain can be described in. */
export type ChainDefinition = readonly ChainEntry[] | NamedChain | ChainFactory

/** Options of {@link FallbackChainStorage}. */
export interface FallbackChainOptions {
  /**
   * Default deadline per backend (ms) for entries without their own `timeout`, and the budget
   * handed to a {@link ChainFactory}. Default 10 (as in the Ruby gem BreakerMachines).
   */
  readonly timeout?: number
  /**
   * Consecutive failures after which a backend is marked unhealthy and skipped. A deadline
   * missed because this process itself stalled (its timer fired later than the deadline is
   * long) is not counted, nor is a backend that is not `ready()` yet. Default 3.
   */
  readonly unhealthyAfter?: number
  /**
   * How long a backend marked unhealthy is skipped before one operation is let through to probe
   * it (ms). Each failed probe doubles the wait, up to `unhealthyFor`. Default 1 000.
   */
  readonly recoverAfter?: number
  /** The longest wait between two probes of an unhealthy backend (ms). Default 30 000. */
  readonly unhealthyFor?: number
  /**
   * At most this many circuits per backend are remembered for write-back while that backend
   * is away; past it the oldest is forgotten. Default 10 000.
   */
  readonly maxWriteBack?: number
  /** Epoch-ms clock used for health windows; inject one in tests. Default `Date.now`. */
  readonly clock?: Clock
}

/**
 * Events of a chain; each name is the last segment of the diagnostics channel
 * `breaker:storage:<event>` on which the same message objects are published.
 */
export interface FallbackChainEvents {
  /** One backend answered an operation. */
  operation: StorageOperationMessage
  /** A backend failed or timed out and the chain moved on. */
  fallback: StorageFallbackMessage
  /**
   * A backend was skipped: it is marked unhealthy (`unhealthyUntil` says until when), or it is
   * not `ready()` yet (`unhealthyUntil` is 0).
   */
  backend_skipped: StorageBackendSkippedMessage
  /** A backend became unhealthy, or healthy again. */
  backend_health: StorageBackendHealthMessage
  /** A whole chain operation finished. */
  chain_operation: StorageChainOperationMessage
}

/** Name of a chain event. */
export type FallbackChainEventName = keyof FallbackChainEvents

/** Receives one chain event; an exception it throws is caught and never reaches the caller. */
export type FallbackChainListener<E extends FallbackChainEventName> = (message: FallbackChainEvents[E]) => void
