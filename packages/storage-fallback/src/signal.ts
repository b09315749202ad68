import type { Storage } from '@breaker/core'

/**
 * An opt-in extension of the storage contract for backends that can stop work they were
 * asked to do. A backend declares `acceptsSignal: true`, and the chain then passes an
 * `AbortSignal` as one extra, last argument to every contract method it calls:
 * `getStatus(circuit, signal)`, `record(circuit, outcome, durationMs, windowMs, signal)`,
 * `clearAll(signal)`, … The signal aborts (with a `StorageTimeoutError` as its reason) when
 * the backend's deadline passes, so the backend can cancel its request instead of letting it
 * run on unseen.
 *
 * Why a declared flag rather than always passing the signal: the contract's methods have
 * optional trailing parameters in some backends, and an extra argument they do not expect is
 * a bug waiting to happen; and a backend that cannot use a signal should not pay for an
 * `AbortController` per operation.
 */
export interface SignalAware {
  /** Every contract method accepts an `AbortSignal` as an extra last argument. */
  readonly acceptsSignal: true
}

/** True when the backend declared {@link SignalAware}. */
export function isSignalAware(storage: Storage): storage is Storage & SignalAware {
  return (storage as Partial<SignalAware>).acceptsSignal === true
}
