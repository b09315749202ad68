import type { Circuit } from './circuit.js'
import type { Registry } from './registry.js'
import type { StorageError } from './errors.js'
import type { RejectMessage, TransitionMessage } from './channels.js'
import type { Storage } from './storage.js'
import type { CircuitState, Clock } from './types.js'

/** Opens after `failures` counted failures within the last `within` ms. */
export interface AbsoluteThreshold {
  /** Counted failures that open the circuit (a positive integer). */
  failures: number
  /** Window the failures are counted over (ms). */
  within: number
}

/** Opens when the share of failures over the last `within` ms reaches `failureRate`, once `minimumCalls` were seen. */
export interface RateThreshold {
  /** Share of failures that opens the circuit, in (0, 1]. */
  failureRate: number
  /** Calls needed in the window before the rate is judged (a positive integer). Default 5. */
  minimumCalls?: number
  /** Window the calls are counted over (ms). */
  within: number
}

/** When a circuit opens. */
export type Threshold = AbsoluteThreshold | RateThreshold

/** What a function fallback is told about the failure it stands in for. */
export interface FallbackContext {
  /** Circuit name. */
  circuit: string
  /** State the call saw. */
  state: CircuitState
}

/** A function fallback, called with the error it replaces. */
export type FallbackFn<T> = (error: unknown, context: FallbackContext) => T | PromiseLike<T>

/**
 * A value served as it is. Functions are excluded, so a function fallback is always read as a
 * {@link FallbackFn} and its parameters are typed without annotations.
 */
export type StaticFallback<T> = T extends (...args: never[]) => unknown ? never : T

/** One fallback: a function of the error, or a static value. */
export type FallbackEntry<T> = FallbackFn<T> | StaticFallback<T>

/** A function, a static value, or an ordered list of them, tried in turn. */
export type Fallback<T = unknown> = FallbackEntry<T> | ReadonlyArray<FallbackEntry<T>>

/** Coalesces outcome writes: a batch is written every `interval` ms or at `maxSize` outcomes. */
export interface BatchOptions {
  /** Longest a counted outcome waits before it is written (ms). */
  interval: number
  /** Outcomes that trigger a write at once. */
  maxSize: number
}

/**
 * Grows the open → half_open delay on each reopening without a close in between:
 * `min(resetAfter × multiplier^reopenings, max)`, jittered. The count of reopenings is stored
 * with the status, so every instance agrees; it returns to 0 when the circuit closes.
 */
export interface ResetBackoff {
  /** Factor per reopening (> 1). */
  multiplier: number
  /** Longest delay (ms), at least `resetAfter`. */
  max: number
}

/**
 * Hedged requests: when a call has not settled after `delay` ms, the function is started again
 * (up to `attempts` runs in all); the first success wins and the others are aborted through
 * their signals. The whole counts as one outcome.
 */
export interface HedgeOptions {
  /** Wait before each further attempt (ms); an attempt that fails starts the next at once. */
  delay: number
  /** Runs in all, the first included (≥ 2). */
  attempts: number
}

/** A circuit named in `dependsOn` or `cascadesTo`: the circuit itself, or its name in the same registry. */
export type CircuitRef = string | Circuit<unknown>

/** Where a storage failure happened, for the `storageError` hook. */
export interface StorageErrorContext {
  /** Circuit name. */
  circuit: string
  /** Contract method that failed. */
  operation: string
}

/**
 * Called before a transition is written. May be async (a pessimistic lock goes here); if it
 * answers a function, that function is called once the transition is written (release the lock).
 * A hook that throws is reported and the transition goes on: compare-and-set still guards it.
 */
export type BeforeTransitionHook = (event: TransitionMessage) => unknown

/** Hooks; none of them can break a call: a throw is caught and reported on `breaker:circuit:hook_error`. */
export interface CircuitHooks {
  /** The circuit opened (fired by the one instance whose write won). */
  open?: (event: TransitionMessage) => unknown
  /** The circuit closed. */
  close?: (event: TransitionMessage) => unknown
  /** The circuit went half_open. */
  halfOpen?: (event: TransitionMessage) => unknown
  /** A call was rejected without running. */
  reject?: (event: RejectMessage) => unknown
  /** Any transition, after the specific hook. */
  stateChange?: (event: TransitionMessage) => unknown
  /** Before a transition is written; see {@link BeforeTransitionHook}. */
  beforeTransition?: BeforeTransitionHook
  /** A storage operation failed (the seed's on_storage_error); `useStorage` may be called from here. */
  storageError?: (error: StorageError, context: StorageErrorContext) => unknown
}

/** Options of a {@link Circuit}; every time is in milliseconds, every timestamp epoch ms. */
export interface CircuitOptions<T = unknown> {
  /** Where state lives; defaults to the registry's `defaultStorage` (see `configure`). */
  storage?: Storage
  /** When the circuit opens. Default `{ failures: 5, within: 60_000 }`. */
  threshold?: Threshold
  /** How long an open circuit waits before letting a probe through (ms). Default 60 000. */
  resetAfter?: number
  /** Spread of the reset delay: it is drawn from `[(1 - jitter) · resetAfter, resetAfter]`. Default 0.25. */
  jitter?: number
  /** Probes allowed in flight at once while half_open. Default 1. */
  halfOpenCalls?: number
  /** Consecutive probe successes that close the circuit. Default 1. */
  successThreshold?: number
  /** Per-call deadline (ms); the call's signal is aborted and it counts as a failure. Default: none. */
  timeout?: number
  /** Bulkhead: calls allowed to run at once; rejections are not failures. Default: unlimited. */
  maxConcurrent?: number
  /** Which errors count as failures. Default: every error. */
  isFailure?: (error: unknown) => boolean
  /**
   * Served instead of an error for open or bulkhead rejections and counted failures; its type
   * joins the result type of `call()`.
   */
  fallback?: Fallback<T>
  /** How long a read of the shared status is trusted (ms); 0 reads it before every call. Default 0. */
  stateCacheTtl?: number
  /** Coalesce outcome writes. Default: off (every outcome is written at once). */
  batch?: BatchOptions | false
  /** Event hooks. */
  on?: CircuitHooks
  /** Epoch ms clock. Default `Date.now`. */
  clock?: Clock
  /** Registry to join; `false` joins none. Default: the default `registry`. */
  registry?: Registry | false
  /** On a storage failure: `'open'` lets the call proceed as if closed (default), `'throw'` rejects it. */
  onStorageFailure?: 'open' | 'throw'
  /**
   * Longest wait for a storage answer (ms); a miss is a `StorageTimeoutError`, reported, and the
   * call fails open. Synchronous (in-process) answers are never timed. Default 1 000.
   */
  storageTimeout?: number
  /** Grows the reset delay on each reopening without a close between. Default: off. */
  resetBackoff?: ResetBackoff
  /** Hedged requests: start the function again when it is slow. Default: off. */
  hedge?: HedgeOptions
  /**
   * Circuits this one depends on: while one of them is open, calls are rejected with
   * `CircuitDependencyError` without running (fallbacks serve). Read through their storage, so it
   * holds on every instance.
   */
  dependsOn?: readonly CircuitRef[]
  /** Circuits opened (`forceOpen`, through their storage) whenever this one opens. */
  cascadesTo?: readonly CircuitRef[]
}

/** Options of one call. */
export interface CallOptions {
  /**
   * Cancels the call: `fn`'s signal aborts too (combined with `timeout`), the call rejects with
   * the signal's reason, and it counts as nothing — neither success nor failure.
   */
  signal?: AbortSignal
}
