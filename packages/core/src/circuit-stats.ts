import type { CallPath } from './call-path.js'
import type { CircuitState } from './types.js'

/** The last counted failure an instance saw: enough to tell what went wrong without keeping the error. */
export interface LastError {
  /** The error's class name (`'TypeError'`, `'CircuitTimeoutError'`, …), or its type when it is not an object. */
  readonly class: string
  /** Its message. */
  readonly message: string
  /** When it happened (epoch ms). */
  readonly at: number
}

/** What `stats()` answers; counts are over the threshold window. */
export interface CircuitStats {
  /** Current state (read from storage). */
  state: CircuitState
  /** Failures counted in the threshold window. */
  failures: number
  /** Successes counted in the threshold window. */
  successes: number
  /** When the circuit last opened (epoch ms), or `null`. */
  openedAt: number | null
  /** Epoch of the current status. */
  epoch: number
  /** Last counted failure this instance saw (epoch ms), or `null`. */
  lastFailureAt: number | null
  /** Calls this instance turned away without running (open, isolated, half-open full, bulkhead, dependency). */
  rejections: number
  /** Answers this instance's fallback served. */
  fallbacks: number
  /** Calls on this instance that outlived `timeout`. */
  timeouts: number
  /** The last counted failure this instance saw, or `null`. */
  lastError: LastError | null
  /** Isolation holds in force (`isolate()`), across every instance. */
  holds: number
}

/** Describes an error for `stats()`: its class and message, whatever was thrown. */
export function describeError(error: unknown, at: number): LastError {
  if (error instanceof Error) return { class: error.constructor.name || error.name, message: error.message, at }
  return { class: error === null ? 'null' : typeof error, message: String(error), at }
}

/** This instance's own counters, from its call path. */
export function localCounters(path: CallPath<unknown>): Pick<CircuitStats, 'rejections' | 'fallbacks' | 'timeouts' | 'lastError'> {
  const at = path.outcomes.lastFailureAt
  return {
    rejections: path.answers.rejections,
    fallbacks: path.answers.fallbacks,
    timeouts: path.timeouts,
    lastError: path.lastError === undefined || at === null ? null : describeError(path.lastError, at),
  }
}
