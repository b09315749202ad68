import { recordMany, recordOutcome } from '@breaker/core/kit'
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
 * One operation as the chain routes it: a typed thunk that runs it on any backend, and what a
 * backend that was passed over owes when a lower one takes it instead. Built once per call.
 */
export interface Route<T> {
  readonly op: Operation
  /** Circuit concerned; `undefined` only for `clearAll`. */
  readonly circuit: string | undefined
  /**
   * Runs the operation on one backend. A stateless backend (`NullStorage`) lacks some optional
   * methods; the thunk answers for it the way a storage that keeps nothing would.
   */
  readonly call: (storage: Storage) => MaybePromise<T>
  /** Goes to every backend not skipped rather than the first that answers (`clear`, `clearAll`). */
  readonly everywhere?: true
  /** The status this operation wrote, given what it answered (`setStatus`, a CAS that won). */
  readonly wrote?: (answer: T) => StatusRecord | undefined
  /** The outcomes this operation counts, and the window (ms) its answer covers. */
  readonly counts?: WindowCounts
  readonly windowMs?: number
}

const FAILURE: WindowCounts = Object.freeze({ failures: 1, successes: 0 })
const SUCCESS: WindowCounts = Object.freeze({ failures: 0, successes: 1 })
const NO_ENTRIES: EventLogEntry[] = Object.freeze([]) as unknown as EventLogEntry[]

/** Routes of every contract method, by name. */
export const routes = {
  getStatus: (circuit: string): Route<StatusRecord | null> => ({
    op: 'getStatus',
    circuit,
    call: (s) => s.getStatus(circuit),
  }),
  setStatus: (circuit: string, record: StatusRecord): Route<void> => ({
    op: 'setStatus',
    circuit,
    call: (s) => s.setStatus(circuit, record),
    wrote: () => record,
  }),
  compareAndSetStatus: (circuit: string, expectedEpoch: number, record: StatusRecord): Route<boolean> => ({
    op: 'compareAndSetStatus',
    circuit,
    // A stateless backend keeps nothing to compare against: the write "wins", as every write to it does.
    call: (s) => (s.compareAndSetStatus ? s.compareAndSetStatus(circuit, expectedEpoch, record) : true),
    wrote: (won) => (won ? record : undefined),
  }),
  recordSuccess: (circuit: string, durationMs: number): Route<void> => ({
    op: 'recordSuccess',
    circuit,
    call: (s) => s.recordSuccess(circuit, durationMs),
    counts: SUCCESS,
    windowMs: 0,
  }),
  recordFailure: (circuit: string, durationMs: number): Route<void> => ({
    op: 'recordFailure',
    circuit,
    call: (s) => s.recordFailure(circuit, durationMs),
    counts: FAILURE,
    windowMs: 0,
  }),
  successCount: (circuit: string, windowMs: number): Route<number> => ({
    op: 'successCount',
    circuit,
    call: (s) => s.successCount(circuit, windowMs),
  }),
  failureCount: (circuit: string, windowMs: number): Route<number> => ({
    op: 'failureCount',
    circuit,
    call: (s) => s.failureCount(circuit, windowMs),
  }),
  // The kit uses the backend's own `record` when it has one, else writes then counts.
  record: (circuit: string, outcome: Outcome, durationMs: number, windowMs: number): Route<WindowCounts> => ({
    op: 'record',
    circuit,
    call: (s) => recordOutcome(s, circuit, outcome, durationMs, windowMs),
    counts: outcome === 'failure' ? FAILURE : SUCCESS,
    windowMs,
  }),
  recordBatch: (circuit: string, batch: WindowCounts, windowMs: number): Route<WindowCounts> => ({
    op: 'recordBatch',
    circuit,
    call: (s) => recordMany(s, circuit, batch, windowMs),
    counts: batch,
    windowMs,
  }),
  acquireProbe: (circuit: string, max: number, ttlMs: number, now: () => number): Route<ProbeLease | null> => ({
    op: 'acquireProbe',
    circuit,
    // A stateless backend hands a permit to every caller, as fail-open does.
    call: (s) => (s.acquireProbe ? s.acquireProbe(circuit, max, ttlMs) : freeLease(now() + ttlMs)),
  }),
  eventLog: (circuit: string, limit: number): Route<EventLogEntry[]> => ({
    op: 'eventLog',
    circuit,
    call: (s) => (s.eventLog ? s.eventLog(circuit, limit) : NO_ENTRIES),
  }),
  clear: (circuit: string): Route<void> => ({
    op: 'clear',
    circuit,
    call: (s) => s.clear(circuit),
    everywhere: true,
  }),
  clearAll: (): Route<void> => ({
    op: 'clearAll',
    circuit: undefined,
    call: (s) => s.clearAll(),
    everywhere: true,
  }),
} as const

// A permit from a storage that keeps nothing.
function freeLease(expiresAt: number): ProbeLease {
  return { id: 'null', expiresAt, release() {} }
}
