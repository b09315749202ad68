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
 * The seed's named form, `{ primary, fallback, final }`: any keys, tried in insertion order.
 * Integer-like keys (`'0'`, `'1'`) are ordered first by JavaScript itself; use words.
 */
export type NamedChain = Readonly<Record<string, ChainEntry>>

/**
 * The seed's dynamic form: called once at construction with the chain's `timeout` option
 * (ms), answers the entries, so a timeout budget can be split between backends.
 */
export type ChainFactory = (budget: { readonly timeout: number }) => readonly ChainEntry[]

/** Every form a chain can be described in. */
export type ChainDefinition = readonly ChainEntry[] | NamedChain | ChainFactory

/** Options of {@link FallbackChainStorage}. */
export interface FallbackChainOptions {
  /**
   * Default deadline per backend (ms) for entries without their own `timeout`, and the budget
   * handed to a {@link ChainFactory}. Default 10, the seed's `timeout || 10`.
   */
  readonly timeout?: number
  /** Consecutive failures after which a backend is skipped. Default 3. */
  readonly unhealthyAfter?: number
  /** How long an unhealthy backend is skipped before it is tried again (ms). Default 30 000. */
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
 * Events of a chain, by the gem's names; the payloads are the same objects published on
 * `breaker:storage:<event>` diagnostics channels.
 */
export interface FallbackChainEvents {
  /** One backend answered an operation. */
  storage_operation: StorageOperationMessage
  /** A backend failed or timed out and the chain moved on. */
  storage_fallback: StorageFallbackMessage
  /** A backend was skipped because it is marked unhealthy. */
  storage_backend_skipped: StorageBackendSkippedMessage
  /** A backend became unhealthy, or healthy again. */
  storage_backend_health: StorageBackendHealthMessage
  /** A whole chain operation finished. */
  storage_chain_operation: StorageChainOperationMessage
}

/** Name of a chain event. */
export type FallbackChainEventName = keyof FallbackChainEvents

/** Receives one chain event; an exception it throws is caught and never reaches the caller. */
export type FallbackChainListener<E extends FallbackChainEventName> = (message: FallbackChainEvents[E]) => void
