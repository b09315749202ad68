import type { Phase } from './state-machine.js'

/** The settle handlers of plain closed calls in one phase, made once per phase instead of per call. */
export interface ClosedHandlers {
  readonly phase: Phase
  /** Chained: their answer is the call's answer (a fallback may replace an error). */
  readonly ok: (value: unknown) => unknown
  readonly fail: (error: unknown) => unknown
  /** Watching: they only count the outcome; the caller awaits the function's own promise. */
  readonly saw: (value: unknown) => void
  readonly sawFail: (error: unknown) => void
}
