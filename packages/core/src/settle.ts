import type { Phase } from './state-machine.js'

/**
 * The settle handlers of plain closed calls in one phase, made once per phase instead of per
 * call: either chained (their answer is the call's answer, so a fallback may replace an error)
 * or watching (they only count the outcome; the caller awaits the function's own promise).
 */
export interface SettleHandlers {
  readonly phase: Phase
  readonly value: (value: unknown) => unknown
  readonly error: (error: unknown) => unknown
}

/**
 * A promise rejected with `error` one microtask from now. By then the caller has attached its
 * handler, which spares Node's unhandled-rejection bookkeeping — three quarters of what a
 * rejection made already rejected (`Promise.reject`) costs. A caller that never handles it is
 * still reported, a microtask later.
 */
export function rejectSoon(error: unknown): Promise<never> {
  return new Promise((_, reject) => queueMicrotask(() => reject(error)))
}
