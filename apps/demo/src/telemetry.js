import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { EVENT_STORAGE_FALLBACK, EVENT_TRANSITION, instrumentBreakers } from '@breaker/otel'

/** Span events the dashboard shows; call spans without them are dropped after each drain. */
const SHOWN = new Set([EVENT_TRANSITION, EVENT_STORAGE_FALLBACK])

/**
 * OpenTelemetry for one worker: `@breaker/otel` feeds an in-memory exporter the dashboard
 * drains, and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, an OTLP/HTTP exporter for traces and
 * metrics too. Answers `{ drain(), otlp, close() }`; a failure here never stops the demo.
 */
export async function startTelemetry({ registry, worker, otlpEndpoint }) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const resource = resourceFromAttributes({ 'service.name': 'breaker-demo', 'breaker.demo.worker': worker })
  const memory = new InMemorySpanExporter()
  /** @type {import('@opentelemetry/sdk-trace-base').SpanProcessor[]} */
  const spanProcessors = [new SimpleSpanProcessor(memory)]
  let meterProvider
  if (otlpEndpoint) {
    // Loaded only when asked for: the exporters read the endpoint (and headers) from the env.
    const [{ OTLPTraceExporter }, { OTLPMetricExporter }, { MeterProvider, PeriodicExportingMetricReader }] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
      import('@opentelemetry/sdk-metrics'),
    ])
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()))
    meterProvider = new MeterProvider({
      resource,
      // OTEL_METRIC_EXPORT_INTERVAL is the standard knob; the SDK leaves reading it to us.
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: metricInterval() })],
    })
  }
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors })
  const instrumentation = instrumentBreakers({ tracerProvider, registry, ...(meterProvider ? { meterProvider } : {}) })

  return {
    otlp: Boolean(otlpEndpoint),
    /** Span events finished since the last drain, as plain JSON; empties the exporter. */
    drain() {
      const spans = memory.getFinishedSpans()
      memory.reset()
      const out = []
      for (const span of spans) {
        for (const event of span.events) {
          if (!SHOWN.has(event.name)) continue
          out.push({
            span: span.name,
            traceId: span.spanContext().traceId,
            spanId: span.spanContext().spanId,
            event: event.name,
            at: hrToMs(event.time),
            attributes: { ...span.attributes, ...event.attributes },
          })
        }
      }
      return out
    },
    async close() {
      instrumentation.disable()
      await tracerProvider.shutdown().catch(() => {})
      await meterProvider?.shutdown().catch(() => {})
    },
  }
}

function metricInterval() {
  const ms = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL)
  return Number.isFinite(ms) && ms >= 100 ? ms : 5_000
}

function hrToMs([seconds, nanos]) {
  return seconds * 1_000 + Math.round(nanos / 1e6)
}
