import diagnostics from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { CHANNELS } from '@breaker/core'
import { CallTracer } from './call-tracing.js'
import { createInstruments } from './instruments.js'
import { resolveOptions } from './options.js'
import type { BreakerInstrumentation, InstrumentBreakersOptions } from './options.js'
import { INSTRUMENTATION_SCOPE } from './semconv.js'
import { SpanEvents } from './span-events.js'
import { storageDurations } from './storage-durations.js'

// Read from package.json (next to both src/ and dist/) so the scope version never drifts from releases.
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version

type Subscriber = (message: unknown) => void

/**
 * Starts recording @breaker circuits with OpenTelemetry: a `breaker.call` span per protected call,
 * span events for transitions and storage fallbacks, and the `breaker.*` metrics. Everything
 * comes from core's diagnostics channels; core itself never imports OpenTelemetry. Call it after
 * the OpenTelemetry SDK is registered (`sdk.start()`), once per process.
 *
 * Telemetry never throws into a call: a failing exporter, provider or instrument is reported to
 * OpenTelemetry's `diag` logger. After `disable()` nothing is subscribed, so calls take core's
 * untraced path again.
 * @throws ConfigurationError when an option has the wrong type.
 */
export function instrumentBreakers(options: InstrumentBreakersOptions = {}): BreakerInstrumentation {
  const resolved = resolveOptions(options)
  const tracer = resolved.tracerProvider.getTracer(INSTRUMENTATION_SCOPE, VERSION)
  const meter = resolved.meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION)
  const instruments = createInstruments(meter, resolved.registry)

  const calls = new CallTracer(resolved.traceCalls ? tracer : undefined, instruments.countCall)
  const events = new SpanEvents(tracer, instruments)
  const subscriptions: Array<[string, Subscriber]> = [
    [CHANNELS.transition, events.transition],
    [CHANNELS.storageFallback, events.storageFallback],
  ]
  if (resolved.traceStorage) {
    const durations = storageDurations(instruments.storageDuration)
    subscriptions.push(
      [CHANNELS.storageOperation, durations.operation],
      [CHANNELS.storageFallback, durations.fallback],
      [CHANNELS.storageChainOperation, durations.chainOperation],
    )
  }
  // The module-level subscribe keeps the channel alive even if no publisher holds it yet.
  for (const [name, handler] of subscriptions) diagnostics.subscribe(name, handler)
  calls.enable()

  let enabled = true
  return {
    get enabled() {
      return enabled
    },
    disable() {
      if (!enabled) return
      enabled = false
      calls.disable()
      for (const [name, handler] of subscriptions) diagnostics.unsubscribe(name, handler)
      instruments.stop()
    },
  }
}
