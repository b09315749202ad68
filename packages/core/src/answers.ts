import type { CallContext, CallOutcome, RejectMessage } from './channels.js'
import { CircuitBulkheadError, CircuitDependencyError, CircuitOpenError } from './errors.js'
import { runFallback } from './fallback.js'
import type { HookRunner } from './hooks.js'
import type { Fallback } from './options.js'
import { rejectSoon } from './settle.js'
import type { HalfOpenPhase, OpenPhase } from './state-machine.js'
import type { CircuitState } from './types.js'

/**
 * What a call that does not succeed answers: the fallback's answer when there is a fallback,
 * else its error — and, for a call turned away without running, the reject event first. Counts
 * the rejections and the fallbacks served, for `stats()`.
 */
export class Answers<T> {
  /** Calls turned away without running (open, isolated, half-open full, bulkhead, dependency). */
  rejections = 0
  /** Answers served by the fallback. */
  fallbacks = 0

  // Reject events made once, not per rejection.
  readonly #open: RejectMessage
  readonly #full: RejectMessage

  constructor(
    readonly circuit: string,
    readonly fallback: Fallback | undefined,
    readonly hooks: HookRunner,
    readonly state: () => CircuitState,
  ) {
    this.#open = Object.freeze({ circuit, reason: 'open' })
    this.#full = Object.freeze({ circuit, reason: 'half_open_full' })
  }

  /** Turned away by an open (or isolated) circuit: one error per opening, reused — no stack, fields fixed. */
  open<R>(phase: OpenPhase, ctx: CallContext | undefined): Promise<R | T> {
    const error = (phase.error ??= new CircuitOpenError(this.circuit, phase.record.openedAt, phase.held ? 'isolated' : 'open'))
    return this.rejected(error, phase.held ? { circuit: this.circuit, reason: 'isolated' } : this.#open, ctx)
  }

  /** Turned away by a half-open circuit whose probe permits are all taken. */
  full<R>(phase: HalfOpenPhase, ctx: CallContext | undefined): Promise<R | T> {
    return this.rejected((phase.error ??= new CircuitOpenError(this.circuit, phase.record.openedAt, 'half_open_full')), this.#full, ctx)
  }

  /** Turned away by the bulkhead: `max` calls already run. */
  bulkhead<R>(max: number, ctx: CallContext | undefined): Promise<R | T> {
    return this.rejected(new CircuitBulkheadError(this.circuit, max), { circuit: this.circuit, reason: 'bulkhead' }, ctx)
  }

  /** Turned away while `dependency` is open. */
  dependency<R>(dependency: string, ctx: CallContext | undefined): Promise<R | T> {
    return this.rejected(new CircuitDependencyError(this.circuit, dependency), { circuit: this.circuit, reason: 'dependency' }, ctx)
  }

  /** The fallback's answer for `error`, or `error` thrown again when there is no fallback. */
  serve(error: unknown, outcome: CallOutcome, ctx: CallContext | undefined): T | Promise<T> {
    const fallback = this.fallback
    if (ctx) ctx.outcome = fallback === undefined ? outcome : 'fallback'
    if (fallback === undefined) throw error
    this.fallbacks++
    return runFallback(fallback, error, { circuit: this.circuit, state: this.state() }) as Promise<T>
  }

  /** A call turned away without running: reported, then served by the fallback or rejected. */
  rejected<R>(error: CircuitOpenError | CircuitBulkheadError | CircuitDependencyError, event: RejectMessage, ctx: CallContext | undefined): Promise<R | T> {
    this.rejections++
    this.hooks.reject(event)
    if (this.fallback === undefined) {
      if (ctx) ctx.outcome = 'rejected'
      return rejectSoon(error)
    }
    return this.serve(error, 'rejected', ctx) as Promise<T>
  }
}
