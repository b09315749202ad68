import { ConfigurationError, registry as defaultRegistry } from '@breaker/core'
import type { Registry } from '@breaker/core'
import { metrics, trace } from '@opentelemetry/api'
import type { MeterProvider, TracerProvider } from '@opentelemetry/api'

/** Options of {@link instrumentBreakers}. */
export interface InstrumentBreakersOptions {
  /** Where spans go; the global provider (`trace.getTracerProvider()`) when omitted. */
  tracerProvider?: TracerProvider
  /**
   * Where metrics go; the global provider when omitted. The global meter provider is read once,
   * at instrumentation, so register the SDK (`sdk.start()`) first.
   */
  meterProvider?: MeterProvider
  /** A `breaker.call` span per protected call (default `true`). Metrics are recorded either way. */
  traceCalls?: boolean
  /**
   * Record `breaker.storage.duration` from a fallback chain's per-operation messages (default
   * `false`: it is one histogram measurement per storage operation).
   */
  traceStorage?: boolean
  /** Circuits the `breaker.state` gauge reports; core's default `registry` when omitted. */
  registry?: Registry
}

/** What {@link instrumentBreakers} returns. */
export interface BreakerInstrumentation {
  /**
   * Unsubscribes from every channel, so calls go back to core's untraced path. Spans of calls
   * still in flight end normally when those calls settle. Calling it again does nothing.
   */
  disable(): void
  /** `false` once `disable()` was called. */
  readonly enabled: boolean
}

/** Options after defaults. */
export interface ResolvedOptions {
  readonly tracerProvider: TracerProvider
  readonly meterProvider: MeterProvider
  readonly traceCalls: boolean
  readonly traceStorage: boolean
  readonly registry: Registry
}

const PACKAGE = '@breaker/otel'

function hasMethod(value: unknown, method: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function'
}

function flag(options: InstrumentBreakersOptions, key: 'traceCalls' | 'traceStorage', fallback: boolean): boolean {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigurationError(key, 'must be a boolean', value, PACKAGE)
  return value
}

/**
 * Applies defaults and checks every option.
 * @throws ConfigurationError naming the option and the value received.
 */
export function resolveOptions(options: InstrumentBreakersOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object', options, PACKAGE)
  }
  const { tracerProvider, meterProvider, registry } = options
  if (tracerProvider !== undefined && !hasMethod(tracerProvider, 'getTracer')) {
    throw new ConfigurationError('tracerProvider', 'must be an OpenTelemetry TracerProvider (with getTracer)', tracerProvider, PACKAGE)
  }
  if (meterProvider !== undefined && !hasMethod(meterProvider, 'getMeter')) {
    throw new ConfigurationError('meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter)', meterProvider, PACKAGE)
  }
  if (registry !== undefined && !hasMethod(registry, 'all')) {
    throw new ConfigurationError('registry', 'must be a @breaker/core Registry', registry, PACKAGE)
  }
  return {
    // The global tracer provider is a proxy, so an SDK registered later still receives spans.
    tracerProvider: tracerProvider ?? trace.getTracerProvider(),
    meterProvider: meterProvider ?? metrics.getMeterProvider(),
    traceCalls: flag(options, 'traceCalls', true),
    traceStorage: flag(options, 'traceStorage', false),
    registry: registry ?? defaultRegistry,
  }
}
