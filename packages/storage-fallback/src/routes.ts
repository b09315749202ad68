import { emulateRecord, emulateRecordBatch } from '@breaker/core/kit'
import type {
  EventLogEntry,
  MaybePromise,
  Outcome,
  ProbeLease,
  StatusRecord,
  Storage,
  WindowCounts,
} from '@breaker/core'

/** Contract methods a chain routes to its backends; also the `operation` of every event. */
export type Operation =
  | 'getStatus'
  | 'setStatus'
  | 'compareAndSetStatus'
  | 'recordSuccess'
  | 'recordFailure'
  | 'successCount'
  | 'failureCount'
  | 'record'
  | 'recordBatch'
  | 'acquireProbe'
  | 'eventLog'
  | 'clear'
  | 'clearAll'

/**
 * One operation as the chain routes it: a typed thunk that runs it on any backend, what a
 * backend that was passed over owes when a lower one takes it instead, and the operation's
 * progress through the backends. Built once per call — the only object the chain allocates for
 * an operation answered synchronously — always with every field (one object shape for every
 * operation keeps the hot path's property reads monomorphic).
 */
export class Route<T> {
  /** `performance.now()` at the start when the operation is timed for an event, else -1. */
  started = -1
  /**
   * The backends this operation failed on or skipped, as bits (at most 31 backends): a write
   * that a lower backend takes is owed to each of them.
   */
  bypassed = 0
  /** For a route that goes everywhere: the first backend that answered, -1 until one did. */
  answeredBy = -1
  /** The last failure and the backend it came from (-1: none failed, all were skipped). */
  lastError: unknown = undefined
  lastIndex = -1

  constructor(
    readonly op: Operation,
    /** Circuit concerned; `undefined` only for `clearAll`. */
    readonly circuit: string | undefined,
    /**
     * Runs the operation on one backend. A stateless backend (`NullStorage`) lacks some optional
     * methods; the thunk answers for it the way a storage that keeps nothing would.
     */
    readonly call: (storage: Storage) => MaybePromise<T>,
    /** Goes to every backend not skipped rather than the first that answers (`clear`, `clearAll`). */
    readonly everywhere: boolean = false,
    /** The status this operation wrote, given what it answered (`setStatus`, a CAS that won). */
    readonly wrote: ((answer: T) => StatusRecord | undefined) | undefined = undefined,
    /** The outcomes this operation counts. */
    readonly counts: WindowCounts | undefined = undefined,
    /** The window (ms) a count write's answer covers. */
    readonly windowMs = 0,
  ) {}
}

const FAILURE: WindowCounts = Object.freeze({ failures: 1, successes: 0 })
const SUCCESS: WindowCounts = Object.freeze({ failures: 0, successes: 1 })
const NO_ENTRIES: EventLogEntry[] = Object.freeze([]) as unknown as EventLogEntry[]

/** Routes of every contract method, by name. */
export const routes = {
  getStatus: (circuit: string) => new Route<StatusRecord | null>('getStatus', circuit, (s) => s.getStatus(circuit)),
  setStatus: (circuit: string, record: StatusRecord) =>
    new Route<void>('setStatus', circuit, (s) => s.setStatus(circuit, record), false, () => record),
  compareAndSetStatus: (circuit: string, expectedEpoch: number, record: StatusRecord) =>
    new Route<boolean>(
      'compareAndSetStatus',
      circuit,
      // A stateless backend keeps nothing to compare against: the write "wins", as every write to it does.
      (s) => (s.compareAndSetStatus ? s.compareAndSetStatus(circuit, expectedEpoch, record) : true),
      false,
      (won) => (won ? record : undefined),
    ),
  recordSuccess: (circuit: string, durationMs: number) =>
    new Route<void>('recordSuccess', circuit, (s) => s.recordSuccess(circuit, durationMs), false, undefined, SUCCESS),
  recordFailure: (circuit: string, durationMs: number) =>
    new Route<void>('recordFailure', circuit, (s) => s.recordFailure(circuit, durationMs), false, undefined, FAILURE),
  successCount: (circuit: string, windowMs: number) =>
    new Route<number>('successCount', circuit, (s) => s.successCount(circuit, windowMs)),
  failureCount: (circuit: string, windowMs: number) =>
    new Route<number>('failureCount', circuit, (s) => s.failureCount(circuit, windowMs)),
  // The backend's own `record` when it has one, else the kit's write-then-count.
  record: (circuit: string, outcome: Outcome, durationMs: number, windowMs: number) =>
    new Route<WindowCounts>(
      'record',
      circuit,
      (s) => (s.record ? s.record(circuit, outcome, durationMs, windowMs) : emulateRecord(s, circuit, outcome, durationMs, windowMs)),
      false,
      undefined,
      outcome === 'failure' ? FAILURE : SUCCESS,
      windowMs,
    ),
  recordBatch: (circuit: string, batch: WindowCounts, windowMs: number) =>
    new Route<WindowCounts>(
      'recordBatch',
      circuit,
      (s) => (s.recordBatch ? s.recordBatch(circuit, batch, windowMs) : emulateRecordBatch(s, circuit, batch, windowMs)),
      false,
      undefined,
      batch,
      windowMs,
    ),
  // A stateless backend hands a permit to every caller, as fail-open does.
  acquireProbe: (circuit: string, max: number, ttlMs: number, now: () => number) =>
    new Route<ProbeLease | null>('acquireProbe', circuit, (s) =>
      s.acquireProbe ? s.acquireProbe(circuit, max, ttlMs) : freeLease(now() + ttlMs),
    ),
  eventLog: (circuit: string, limit: number) =>
    new Route<EventLogEntry[]>('eventLog', circuit, (s) => (s.eventLog ? s.eventLog(circuit, limit) : NO_ENTRIES)),
  clear: (circuit: string) => new Route<void>('clear', circuit, (s) => s.clear(circuit), true),
  clearAll: () => new Route<void>('clearAll', undefined, (s) => s.clearAll(), true),
} as const

// A permit from a storage that keeps nothing.
function freeLease(expiresAt: number): ProbeLease {
  return { id: 'null', expiresAt, release() {} }
}
