import { Circuit, Registry } from '@breaker/core'
import type { CircuitOptions } from '@breaker/core'
import { MemoryStorage } from '@breaker/storage-memory'
import { context } from '@opentelemetry/api'
import type { Attributes } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import type { MetricData } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { instrumentBreakers } from '../../src/index.js'
import type { BreakerInstrumentation, InstrumentBreakersOptions } from '../../src/index.js'

/** A metric reader that only reads when asked: the in-memory reader of these tests. */
export class InMemoryMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One data point, flattened. */
export interface Point {
  attributes: Attributes
  value: unknown
}

/** Registers the AsyncLocalStorage context manager (what the Node SDK registers) for a test file. */
export function useContextManager(): void {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  })
  afterAll(() => {
    context.disable()
  })
}

/** A manual clock (epoch ms). */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms) }
}

/**
 * A fresh SDK (in-memory span exporter, in-memory metric reader), a fresh registry and an
 * `instrument()` whose handles are disabled after each test.
 */
export function useOtel() {
  const handles: BreakerInstrumentation[] = []
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  let reader = new InMemoryMetricReader()
  let meterProvider = new MeterProvider({ readers: [reader] })
  let registry = new Registry()
  const clock = manualClock()

  afterEach(async () => {
    for (const handle of handles.splice(0)) handle.disable()
    spans.reset()
    await meterProvider.shutdown()
    reader = new InMemoryMetricReader()
    meterProvider = new MeterProvider({ readers: [reader] })
    registry = new Registry()
  })

  const api = {
    spans,
    clock,
    get tracerProvider() {
      return tracerProvider
    },
    get meterProvider() {
      return meterProvider
    },
    get registry() {
      return registry
    },
    tracer: () => tracerProvider.getTracer('test'),
    instrument(options: InstrumentBreakersOptions = {}): BreakerInstrumentation {
      const handle = instrumentBreakers({ tracerProvider, meterProvider, registry, ...options })
      handles.push(handle)
      return handle
    },
    /** A circuit on in-process storage: opens after 2 failures, half_open 1 s later, no jitter. */
    circuit(name: string, options: CircuitOptions = {}): Circuit {
      return new Circuit(name, {
        storage: new MemoryStorage({ clock: clock.now }),
        threshold: { failures: 2, within: 60_000 },
        resetAfter: 1_000,
        jitter: 0,
        clock: clock.now,
        registry,
        ...options,
      })
    },
    finished(name?: string): ReadableSpan[] {
      const all = spans.getFinishedSpans()
      return name === undefined ? all : all.filter((s) => s.name === name)
    },
    async metrics(): Promise<Map<string, MetricData>> {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw errors[0]
      const byName = new Map<string, MetricData>()
      for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric)
      return byName
    },
    /** Data points of one metric (empty when it has none). */
    async points(name: string): Promise<Point[]> {
      const metric = (await api.metrics()).get(name)
      if (!metric) return []
      return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }))
    },
  }
  return api
}

/** The value of a counter or gauge point whose attributes include `match`, or undefined. */
export function valueOf(points: Point[], match: Attributes): unknown {
  const found = points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
  return found?.value
}

export { DataPointType }

/** Fails with `error` (a call that counts as a failure). */
export const fail = (error: unknown = new Error('boom')) => (): never => {
  throw error
}
