import type {
  CircuitHandle,
  EventLogEntry,
  MaybePromise,
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  StorageCapabilities,
  WindowCounts,
} from './types.js'

/**
 * Where circuits keep their state. Methods answer synchronously or with a promise; the
 * circuit adds no `await` when the answer is synchronous, which keeps in-process storage fast.
 *
 * A method that fails throws (or rejects) — it never swallows the failure into `null` or `0`.
 * The circuit reports the error and, by default, lets the call proceed as if closed.
 */
export interface Storage {
  /** Short backend name used in events and errors: `'memory'`, `'redis'`, … */
  readonly name: string
  /** What this backend can honour; declared, never probed. */
  readonly capabilities: StorageCapabilities

  /** The circuit's shared status, or `null` when none was ever written (read as closed, epoch 0). */
  getStatus(circuit: string): MaybePromise<StatusRecord | null>
  /** Writes the status unconditionally (last writer wins); subscribers are told. */
  setStatus(circuit: string, record: StatusRecord): MaybePromise<void>
  /**
   * Writes `record` only if the stored epoch (0 when absent) equals `expectedEpoch`.
   * Answers whether it wrote; of racing writers with the same expectation exactly one wins.
   * Offered when `capabilities.cas` is true.
   */
  compareAndSetStatus?(circuit: string, expectedEpoch: number, record: StatusRecord): MaybePromise<boolean>

  /**
   * Counts one success now. `durationMs` is how long the call took (ms); circuits time calls
   * only for storages that keep durations (those with an `eventLog`) and pass 0 to the rest,
   * since reading the clock is the largest cost of a closed call.
   */
  recordSuccess(circuit: string, durationMs: number): MaybePromise<void>
  /** Counts one failure now; `durationMs` as for `recordSuccess`. */
  recordFailure(circuit: string, durationMs: number): MaybePromise<void>
  /** Successes counted in the last `windowMs` milliseconds, now included. */
  successCount(circuit: string, windowMs: number): MaybePromise<number>
  /** Failures counted in the last `windowMs` milliseconds, now included. */
  failureCount(circuit: string, windowMs: number): MaybePromise<number>
  /**
   * Counts one outcome and answers the counts over the last `windowMs` ms, in one trip.
   * The counts include the outcome just written.
   */
  record?(circuit: string, outcome: Outcome, durationMs: number, windowMs: number): MaybePromise<WindowCounts>
  /**
   * Counts many outcomes at once (a batch flush) and answers the counts over the last
   * `windowMs` ms, including them, in one trip.
   */
  recordBatch?(circuit: string, batch: WindowCounts, windowMs: number): MaybePromise<WindowCounts>

  /**
   * Hands out a half-open probe permit if fewer than `max` are held for the circuit, else `null`.
   * The permit lapses after `ttlMs` ms. Offered when `capabilities.leases` is true.
   */
  acquireProbe?(circuit: string, max: number, ttlMs: number): MaybePromise<ProbeLease | null>
  /**
   * Pushes every status write, from any sharer including this one, and a resync notice whenever
   * pushes may have been missed; answers an unsubscribe. Offered when `capabilities.subscribe` is true.
   */
  subscribe?(listener: StatusListener): () => void
  /**
   * False while the backend cannot answer yet (a client still connecting); a fallback chain
   * skips it without counting a failure. Absent means always ready.
   */
  ready?(): boolean
  /**
   * A handle on one circuit for the per-call path (status read, success write, record-and-count)
   * with no lookup by name: worth offering for in-process storages holding many circuits.
   */
  bind?(circuit: string): CircuitHandle
  /**
   * A circuit uses this name from now until it calls the function answered (on `dispose()`).
   * An in-process storage may release what it holds for a name nobody retains once nothing in
   * it is still needed (no counts inside any window, no lease, no open status).
   */
  retain?(circuit: string): () => void
  /** The newest `limit` outcomes of the circuit, newest first. Offered when `capabilities.eventLog` is true. */
  eventLog?(circuit: string, limit: number): MaybePromise<EventLogEntry[]>

  /** Forgets everything about one circuit: status, counts, leases. */
  clear(circuit: string): MaybePromise<void>
  /** Forgets every circuit this storage holds (and nothing else that shares the backend). */
  clearAll(): MaybePromise<void>
  /** Releases connections, timers and handles the storage itself opened. */
  close?(): Promise<void>
}
