import type { AsyncLocalStorage } from 'node:async_hooks'
import diagnostics from 'node:diagnostics_channel'
import { CHANNELS } from '@breaker/core'
import type { CallContext, CallOutcome } from '@breaker/core'
import { SpanKind, SpanStatusCode, context, createContextKey, trace } from '@opentelemetry/api'
import type { Context, Exception, Span, Tracer } from '@opentelemetry/api'
import { chooseContextStore } from './context-store.js'
import { errorCode, errorType, guard, report } from './guard.js'
import { ATTR_CIRCUIT, ATTR_ERROR_CODE, ATTR_ERROR_TYPE, ATTR_OUTCOME, ATTR_STATE, SPAN_CALL } from './semconv.js'

/** The call in progress, as the OpenTelemetry context carries it to span events. */
export interface CallRecord {
  /** Circuit the call runs under. */
  readonly circuit: string
  /** Its `breaker.call` span. */
  readonly span: Span
  /** Set once the span ended: later events (writes the call did not wait for) get their own span. */
  ended: boolean
}

/** Context key under which the call span's context carries its {@link CallRecord}. */
export const CALL_KEY = createContextKey('@breaker/otel call')

/** Counts a settled call (the `breaker.calls` counter). */
export type CallCounter = (circuit: string, outcome: CallOutcome) => void

/**
 * Follows core's `breaker:call` tracing channel: a span per protected call, made the active
 * context while the user's function runs, ended with its state and outcome once the call settles.
 *
 * Core sets `state` at admission and `outcome` before the traced promise settles, so both are read
 * at `asyncEnd`, which fires however the call settles.
 */
export class CallTracer {
  readonly #tracer: Tracer | undefined
  readonly #count: CallCounter
  readonly #records = new WeakMap<CallContext, CallRecord>()
  readonly #channel = diagnostics.tracingChannel<unknown, CallContext>(CHANNELS.call)
  #store: ContextStoreLike | undefined
  #open = 0
  #draining = false
  #subscribedStart = false

  readonly #chooseStore: () => ContextStoreLike | undefined

  /**
   * @param tracer `undefined` when `traceCalls` is off: calls are then only counted.
   * @param chooseStore which store to bind (tests pick each runtime's branch).
   */
  constructor(tracer: Tracer | undefined, count: CallCounter, chooseStore: () => ContextStoreLike | undefined = chooseContextStore) {
    this.#tracer = tracer
    this.#count = count
    this.#chooseStore = chooseStore
  }

  /** Subscribes; from now on `circuit.call()` takes core's traced path. */
  enable(): void {
    this.#channel.asyncEnd.subscribe(this.#asyncEnd)
    this.#channel.end.subscribe(this.#end)
    if (!this.#tracer) return
    // Each instrumentation binds its own store object: a channel keys bound stores by identity, so
    // a shared one would let one instrumentation's disable() unbind another's.
    this.#store = this.#chooseStore()
    if (this.#store) {
      this.#channel.start.bindStore(this.#store as AsyncLocalStorage<unknown>, this.#enter)
    } else {
      // No store can be bound on this runtime: the span still starts as a child of the caller's
      // context, but it cannot become the active context for the user's function.
      this.#channel.start.subscribe(this.#start)
      this.#subscribedStart = true
    }
  }

  /**
   * Stops new spans at once. The settle subscriptions stay until the calls already traced have
   * settled, so their spans end properly; then the channel has no subscriber at all.
   */
  disable(): void {
    if (this.#store) this.#channel.start.unbindStore(this.#store as AsyncLocalStorage<unknown>)
    if (this.#subscribedStart) this.#channel.start.unsubscribe(this.#start)
    this.#store = undefined
    this.#subscribedStart = false
    this.#draining = true
    if (this.#open === 0) this.#unsubscribeSettle()
  }

  #unsubscribeSettle(): void {
    this.#channel.asyncEnd.unsubscribe(this.#asyncEnd)
    this.#channel.end.unsubscribe(this.#end)
  }

  /** bindStore transform: runs synchronously as the call begins, before the user's function. */
  readonly #enter = (data: CallContext): Context => {
    const parent = context.active()
    try {
      const record = this.#begin(data, parent)
      return record ? trace.setSpan(parent, record.span).setValue(CALL_KEY, record) : parent
    } catch (error) {
      // A transform that throws is re-raised by Node as an uncaught exception: never let it.
      report('starting a call span', error)
      return parent
    }
  }

  readonly #start = guard('starting a call span', (data: CallContext) => void this.#begin(data, context.active()))

  #begin(data: CallContext, parent: Context): CallRecord | undefined {
    if (!this.#tracer || this.#draining) return undefined
    const span = this.#tracer.startSpan(SPAN_CALL, { kind: SpanKind.INTERNAL, attributes: { [ATTR_CIRCUIT]: data.circuit } }, parent)
    const record: CallRecord = { circuit: data.circuit, span, ended: false }
    this.#records.set(data, record)
    this.#open++
    return record
  }

  readonly #asyncEnd = guard('ending a call span', (data: CallContext) => this.#finish(data))

  // `end` fires when the traced function returns. It carries an error only when the function threw
  // synchronously, in which case no `asyncEnd` follows; a rejection arrives later, at `asyncEnd`.
  readonly #end = guard('ending a call span', (data: CallContext) => {
    if ('error' in data) this.#finish(data)
  })

  #finish(data: CallContext): void {
    const failed = 'error' in data
    const outcome: CallOutcome = data.outcome ?? (failed ? 'failure' : 'success')
    const record = this.#records.get(data)
    if (record) {
      this.#records.delete(data)
      this.#open--
      record.ended = true
      try {
        record.span.setAttributes({ [ATTR_STATE]: data.state, [ATTR_OUTCOME]: outcome })
        if (failed) recordError(record.span, data.error)
      } finally {
        // Whatever failed above, the span still ends and the draining still completes.
        try {
          record.span.end()
        } finally {
          if (this.#draining && this.#open === 0) this.#unsubscribeSettle()
        }
      }
    }
    // Counted last: a failing meter must not keep the span from ending.
    if (!this.#draining) this.#count(data.circuit, outcome)
  }
}

type ContextStoreLike = NonNullable<ReturnType<typeof chooseContextStore>>

/**
 * Records an error the OpenTelemetry way: an `exception` event, `error.type` and an error status.
 * `exception.type` and `error.type` both carry the class name (the SDK would otherwise put an
 * error's `code` in `exception.type`); the code, when there is one, goes in `breaker.error.code`.
 */
export function recordError(span: Span, error: unknown): void {
  const type = errorType(error)
  if (typeof error === 'object' && error !== null) {
    const { message, stack } = error as { message?: unknown; stack?: unknown }
    const exception: Exception = { name: type }
    if (typeof message === 'string') exception.message = message
    if (typeof stack === 'string') exception.stack = stack
    span.recordException(exception)
  } else {
    span.recordException(String(error))
  }
  span.setAttribute(ATTR_ERROR_TYPE, type)
  const code = errorCode(error)
  if (code !== undefined) span.setAttribute(ATTR_ERROR_CODE, code)
  const message = error instanceof Error ? error.message : String(error)
  span.setStatus({ code: SpanStatusCode.ERROR, message })
}
