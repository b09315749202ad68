import { ConfigurationError, isConfigurationError } from '@breaker/core'
import { DiagLogLevel, diag } from '@opentelemetry/api'
import type { Meter, MeterProvider, Span, Tracer, TracerProvider } from '@opentelemetry/api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { instrumentBreakers } from '../src/index.js'
import { fail, useContextManager, useOtel } from './support/harness.js'

useContextManager()

const explode = () => {
  throw new Error('telemetry is broken')
}

/** A tracer provider whose tracer throws from `startSpan`, or hands out spans that throw from everything. */
function brokenTracerProvider(where: 'startSpan' | 'span'): TracerProvider {
  const span = new Proxy({} as Span, { get: () => explode })
  const tracer = { startSpan: where === 'startSpan' ? explode : () => span, startActiveSpan: explode } as unknown as Tracer
  return { getTracer: () => tracer }
}

/** A meter provider whose instruments throw from `add`, `record` and from the gauge's registry read. */
function brokenMeterProvider(): MeterProvider {
  const instrument = { add: explode, record: explode, addCallback: () => {}, removeCallback: () => {} }
  const meter = new Proxy({} as Meter, { get: () => () => instrument })
  return { getMeter: () => meter }
}

describe('telemetry never throws into a call', () => {
  const otel = useOtel()
  const logged: unknown[][] = []

  beforeEach(() => {
    logged.length = 0
    diag.setLogger({ error: (...args) => logged.push(args), warn() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.ERROR)
  })
  afterEach(() => {
    diag.disable()
  })

  for (const where of ['startSpan', 'span'] as const) {
    it(`keeps calls, failures and transitions working when the tracer throws (${where})`, async () => {
      const handle = instrumentBreakers({ tracerProvider: brokenTracerProvider(where), meterProvider: otel.meterProvider, registry: otel.registry })
      try {
        const c = otel.circuit(`broken-tracer-${where}`)
        await expect(c.call(() => 'value')).resolves.toBe('value')
        await expect(c.call(fail(new Error('real failure')))).rejects.toThrow('real failure')
        await expect(c.call(fail(new Error('real failure')))).rejects.toThrow('real failure')
        await expect(c.call(() => 'x')).rejects.toThrow(/is open/)
        await new Promise((resolve) => setImmediate(resolve))
        expect(logged.length).toBeGreaterThan(0)
        expect(String(logged[0]![0])).toMatch(/^@breaker\/otel: /)
      } finally {
        handle.disable()
      }
    })
  }

  it('keeps calls working when every metric instrument throws', async () => {
    const handle = instrumentBreakers({ tracerProvider: otel.tracerProvider, meterProvider: brokenMeterProvider(), registry: otel.registry, traceStorage: true })
    try {
      const c = otel.circuit('broken-meter')
      await expect(c.call(() => 'value')).resolves.toBe('value')
      await c.forceOpen()
      expect(otel.finished('breaker.call')).toHaveLength(1)
      expect(logged.some((args) => String(args[0]).includes('@breaker/otel'))).toBe(true)
    } finally {
      handle.disable()
    }
  })

  it('reports a registry that throws while the state gauge is collected, and still exports the rest', async () => {
    const registry = { all: explode } as unknown as typeof otel.registry
    const handle = otel.instrument({ registry })
    await otel.circuit('still-counted').call(() => 1)
    expect(await otel.points('breaker.state')).toEqual([])
    expect((await otel.points('breaker.calls')).length).toBe(1)
    expect(logged.some((args) => String(args[0]).includes('observing circuit states'))).toBe(true)
    handle.disable()
  })
})

describe('options', () => {
  it.each([
    ['traceCalls', { traceCalls: 'yes' }],
    ['traceStorage', { traceStorage: 1 }],
    ['tracerProvider', { tracerProvider: {} }],
    ['meterProvider', { meterProvider: { getTracer() {} } }],
    ['registry', { registry: [] }],
    ['options', null],
  ])('rejects a bad %s with a ConfigurationError naming it', (option, options) => {
    let thrown: unknown
    try {
      instrumentBreakers(options as never)
    } catch (error) {
      thrown = error
    }
    expect(isConfigurationError(thrown)).toBe(true)
    expect((thrown as ConfigurationError).option).toBe(option)
    expect((thrown as Error).message).toMatch(/^\[@breaker\/otel\] /)
  })
})
