import type { StorageFallbackMessage, TransitionMessage } from '@breaker/core'
import { SpanKind, context } from '@opentelemetry/api'
import type { Attributes, Counter, Tracer } from '@opentelemetry/api'
import { CALL_KEY } from './call-tracing.js'
import type { CallRecord } from './call-tracing.js'
import { guard } from './guard.js'
import {
  ATTR_CIRCUIT,
  ATTR_ERROR_TYPE,
  ATTR_STORAGE_BACKEND,
  ATTR_STORAGE_NEXT_BACKEND,
  ATTR_STORAGE_OPERATION,
  ATTR_TRANSITION_EPOCH,
  ATTR_TRANSITION_FROM,
  ATTR_TRANSITION_TO,
  ERROR_TYPE_OTHER,
  EVENT_STORAGE_FALLBACK,
  EVENT_TRANSITION,
  SPAN_STORAGE_FALLBACK,
  SPAN_TRANSITION,
} from './semconv.js'

/** The counters span events also feed. */
export interface EventCounters {
  readonly transitions: Counter
  readonly storageFallbacks: Counter
}

/**
 * Turns transition and storage fallback messages into span events (on the current call's span, or
 * on a short span of their own) and counts them.
 *
 * Core publishes both from inside the call that caused them, so the OpenTelemetry context active
 * in the subscriber is that call's span context: it carries the call under {@link CALL_KEY}.
 */
export class SpanEvents {
  readonly #tracer: Tracer
  readonly #counters: EventCounters

  constructor(tracer: Tracer, counters: EventCounters) {
    this.#tracer = tracer
    this.#counters = counters
  }

  /** Subscriber of `breaker:circuit:transition`. */
  readonly transition = guard('recording a transition', (message: TransitionMessage) => {
    this.#counters.transitions.add(1, {
      [ATTR_CIRCUIT]: message.circuit,
      [ATTR_TRANSITION_FROM]: message.from,
      [ATTR_TRANSITION_TO]: message.to,
    })
    const attributes: Attributes = {
      [ATTR_TRANSITION_FROM]: message.from,
      [ATTR_TRANSITION_TO]: message.to,
      [ATTR_TRANSITION_EPOCH]: message.epoch,
    }
    // A transition of another circuit (a nested call, forceOpen inside a call) does not belong
    // on this call's span; it gets its own span, a child of this one.
    this.#annotate(message.circuit, SPAN_TRANSITION, EVENT_TRANSITION, attributes, (call) => call.circuit === message.circuit)
  })

  /** Subscriber of `breaker:storage:fallback`. */
  readonly storageFallback = guard('recording a storage fallback', (message: StorageFallbackMessage) => {
    const errorType = message.errorClass || ERROR_TYPE_OTHER
    const attributes: Attributes = {
      [ATTR_STORAGE_BACKEND]: message.backend,
      [ATTR_STORAGE_OPERATION]: message.operation,
      [ATTR_ERROR_TYPE]: errorType,
    }
    if (message.nextBackend !== null) attributes[ATTR_STORAGE_NEXT_BACKEND] = message.nextBackend
    const counted: Attributes = { [ATTR_STORAGE_BACKEND]: message.backend, [ATTR_ERROR_TYPE]: errorType }
    if (message.nextBackend !== null) counted[ATTR_STORAGE_NEXT_BACKEND] = message.nextBackend
    this.#counters.storageFallbacks.add(1, counted)
    // Operations without a circuit (clearAll) still run on behalf of the call in progress.
    const circuit = message.circuit
    this.#annotate(circuit, SPAN_STORAGE_FALLBACK, EVENT_STORAGE_FALLBACK, attributes, (call) => circuit === undefined || call.circuit === circuit)
  })

  #annotate(circuit: string | undefined, spanName: string, eventName: string, attributes: Attributes, belongs: (call: CallRecord) => boolean): void {
    const active = context.active()
    const call = active.getValue(CALL_KEY) as CallRecord | undefined
    if (call && !call.ended && belongs(call)) {
      call.span.addEvent(eventName, attributes)
      return
    }
    const own = this.#tracer.startSpan(
      spanName,
      { kind: SpanKind.INTERNAL, attributes: circuit === undefined ? {} : { [ATTR_CIRCUIT]: circuit } },
      active,
    )
    own.addEvent(eventName, attributes)
    own.end()
  }
}
