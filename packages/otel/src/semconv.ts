/**
 * Every OpenTelemetry name @breaker/otel emits: span, event, metric and attribute names.
 * Lowercase dotted snake_case under the `breaker.` namespace; `error.type` is the stable
 * OpenTelemetry attribute, reused rather than redefined. Dashboards and alerts can import these
 * constants instead of repeating string literals.
 */

import type { CircuitState } from '@breaker/core'

/** Instrumentation scope name given to the tracer and the meter. */
export const INSTRUMENTATION_SCOPE = '@breaker/otel'

// ── spans and span events ──────────────────────────────────────────────────────────────────

/** Span around one protected call (`circuit.call`), kind internal. */
export const SPAN_CALL = 'breaker.call'
/** Short span that carries a transition event when no call of that circuit is in progress. */
export const SPAN_TRANSITION = 'breaker.transition'
/** Short span that carries a storage fallback event when no call is in progress. */
export const SPAN_STORAGE_FALLBACK = 'breaker.storage.fallback'

/** Span event: the circuit changed state. */
export const EVENT_TRANSITION = 'breaker.transition'
/** Span event: a fallback chain moved from one storage backend to the next. */
export const EVENT_STORAGE_FALLBACK = 'breaker.storage.fallback'

// ── attributes ─────────────────────────────────────────────────────────────────────────────

/** Circuit name. */
export const ATTR_CIRCUIT = 'breaker.circuit'
/** State a call was admitted (or rejected) under: `closed | half_open | open`. */
export const ATTR_STATE = 'breaker.state'
/** How a call ended: `success | failure | rejected | timeout | fallback`. */
export const ATTR_OUTCOME = 'breaker.outcome'
/** State before a transition. */
export const ATTR_TRANSITION_FROM = 'breaker.transition.from'
/** State after a transition. */
export const ATTR_TRANSITION_TO = 'breaker.transition.to'
/** Epoch of the status a transition wrote (grows by one per transition). */
export const ATTR_TRANSITION_EPOCH = 'breaker.transition.epoch'
/** Storage backend name (`redis`, `memory`, …). */
export const ATTR_STORAGE_BACKEND = 'breaker.storage.backend'
/** Backend a fallback chain moved on to; absent when none was left. */
export const ATTR_STORAGE_NEXT_BACKEND = 'breaker.storage.next_backend'
/** Storage contract method (`getStatus`, `record`, …). */
export const ATTR_STORAGE_OPERATION = 'breaker.storage.operation'
/**
 * `backend` when a duration measures one backend's attempt, `chain` when it measures a whole
 * fallback chain operation (which includes its backends' attempts), so the two never sum.
 */
export const ATTR_STORAGE_LAYER = 'breaker.storage.layer'
/**
 * The stable OpenTelemetry attribute: the error's class name (`CircuitOpenError`, `TypeError`), or
 * `_OTHER` when a thrown value has none. The call span's `exception` event carries the same name in
 * `exception.type`, so both attributes mean one thing.
 */
export const ATTR_ERROR_TYPE = 'error.type'
/**
 * The error's own `code` when it has one (`ERR_CIRCUIT_OPEN`, `ECONNREFUSED`): a breaker-specific
 * attribute, since `error.type` and `exception.type` carry the class name.
 */
export const ATTR_ERROR_CODE = 'breaker.error.code'

/** Values of {@link ATTR_STORAGE_LAYER}. */
export const STORAGE_LAYER_BACKEND = 'backend'
/** Values of {@link ATTR_STORAGE_LAYER}. */
export const STORAGE_LAYER_CHAIN = 'chain'
/** The OpenTelemetry fallback value of `error.type` when nothing more specific is known. */
export const ERROR_TYPE_OTHER = '_OTHER'

// ── metrics ────────────────────────────────────────────────────────────────────────────────

/** Counter (observed: a monotonic sum) of protected calls, by circuit and outcome. */
export const METRIC_CALLS = 'breaker.calls'
/** Counter of transitions, by circuit, from and to. */
export const METRIC_TRANSITIONS = 'breaker.transitions'
/** Counter of storage fallbacks, by backend, next backend and `error.type`. */
export const METRIC_STORAGE_FALLBACKS = 'breaker.storage.fallbacks'
/** Histogram of storage operation durations in seconds (unit `s`), by backend, operation and layer. */
export const METRIC_STORAGE_DURATION = 'breaker.storage.duration'
/** Observable gauge of each circuit's state: see {@link STATE_VALUES}. */
export const METRIC_STATE = 'breaker.state'

/**
 * Bucket boundaries of {@link METRIC_STORAGE_DURATION}, in seconds: from 50 µs (an in-process
 * backend) through a fallback chain's few-millisecond deadlines to 2.5 s (a network backend timing
 * out). The SDK's default boundaries start at 5 (seconds, for this unit) and would put every storage
 * operation into the first bucket.
 */
export const STORAGE_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
])

/** What the `breaker.state` gauge reports for each state. */
export const STATE_VALUES: Readonly<Record<CircuitState, number>> = Object.freeze({
  closed: 0,
  half_open: 1,
  open: 2,
})
