import { describe, expect, it } from 'vitest'
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api'
import { fail, useContextManager, useOtel } from './support/harness.js'

useContextManager()

describe('breaker.call spans', () => {
  const otel = useOtel()

  it('records one internal breaker.call span per call with circuit, admission state and outcome', async () => {
    otel.instrument()
    const payments = otel.circuit('payments')
    await expect(payments.call(() => 42)).resolves.toBe(42)
    const [span, ...rest] = otel.finished()
    expect(rest).toHaveLength(0)
    expect(span!.name).toBe('breaker.call')
    expect(span!.kind).toBe(SpanKind.INTERNAL)
    expect(span!.attributes).toEqual({ 'breaker.circuit': 'payments', 'breaker.state': 'closed', 'breaker.outcome': 'success' })
    expect(span!.status.code).toBe(SpanStatusCode.UNSET)
    expect(span!.instrumentationScope.name).toBe('@breaker/otel')
    expect(span!.instrumentationScope.version).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('starts the span as a child of the context active when call() was invoked', async () => {
    otel.instrument()
    const c = otel.circuit('child-of-caller')
    await otel.tracer().startActiveSpan('request', async (request) => {
      await c.call(async () => 'ok')
      request.end()
    })
    const call = otel.finished('breaker.call')[0]!
    const request = otel.finished('request')[0]!
    expect(call.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(call.spanContext().traceId).toBe(request.spanContext().traceId)
  })

  it("makes the call span the active context inside the user's function, across awaits", async () => {
    otel.instrument()
    const c = otel.circuit('nesting')
    const tracer = otel.tracer()
    await c.call(async () => {
      tracer.startSpan('before-await').end()
      await new Promise((resolve) => setTimeout(resolve, 1))
      tracer.startSpan('after-await').end()
    })
    const call = otel.finished('breaker.call')[0]!
    for (const name of ['before-await', 'after-await']) {
      expect(otel.finished(name)[0]!.parentSpanContext?.spanId).toBe(call.spanContext().spanId)
    }
    // Outside the call the caller's context is back.
    expect(trace.getSpan(context.active())).toBeUndefined()
  })

  it('records a failure the OpenTelemetry way: exception event, error.type and error status', async () => {
    otel.instrument()
    const c = otel.circuit('failing')
    await expect(c.call(fail(new TypeError('bad input')))).rejects.toThrow('bad input')
    const span = otel.finished('breaker.call')[0]!
    expect(span.attributes['breaker.outcome']).toBe('failure')
    expect(span.attributes['error.type']).toBe('TypeError')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input' })
    const exception = span.events.find((e) => e.name === 'exception')!
    expect(exception.attributes?.['exception.type']).toBe('TypeError')
    expect(exception.attributes?.['exception.message']).toBe('bad input')
  })

  it('gives exception.type and error.type the same class name, and the error code its own attribute', async () => {
    otel.instrument()
    const c = otel.circuit('coded')
    await expect(c.call(fail())).rejects.toThrow()
    await expect(c.call(fail())).rejects.toThrow()
    otel.spans.reset()
    await expect(c.call(() => 'never runs')).rejects.toThrow(/is open/)
    const span = otel.finished('breaker.call')[0]!
    const exception = span.events.find((e) => e.name === 'exception')!
    expect(span.attributes['error.type']).toBe('CircuitOpenError')
    expect(exception.attributes?.['exception.type']).toBe('CircuitOpenError')
    expect(span.attributes['breaker.error.code']).toBe('ERR_CIRCUIT_OPEN')
  })

  it('sets no breaker.error.code for an error without a code', async () => {
    otel.instrument()
    const c = otel.circuit('uncoded')
    await expect(c.call(fail(new RangeError('out of range')))).rejects.toThrow()
    const span = otel.finished('breaker.call')[0]!
    expect(span.attributes['breaker.error.code']).toBeUndefined()
    expect(span.events.find((e) => e.name === 'exception')!.attributes?.['exception.type']).toBe('RangeError')
  })

  it('records a thrown non-Error value as _OTHER with its string form', async () => {
    otel.instrument()
    const c = otel.circuit('throws-string')
    await expect(c.call(fail('plain string'))).rejects.toBe('plain string')
    const span = otel.finished('breaker.call')[0]!
    expect(span.attributes['error.type']).toBe('_OTHER')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'plain string' })
  })

  it('marks calls turned away by an open circuit as rejected under state open', async () => {
    otel.instrument()
    const c = otel.circuit('rejecting')
    await expect(c.call(fail())).rejects.toThrow()
    await expect(c.call(fail())).rejects.toThrow()
    otel.spans.reset()
    await expect(c.call(() => 'never runs')).rejects.toThrow(/is open/)
    const span = otel.finished('breaker.call')[0]!
    expect(span.attributes).toMatchObject({ 'breaker.state': 'open', 'breaker.outcome': 'rejected', 'error.type': 'CircuitOpenError' })
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
  })

  it('marks a call served by a fallback as fallback, without an error status', async () => {
    otel.instrument()
    const c = otel.circuit('with-fallback', { fallback: 'cached' })
    await expect(c.call(fail())).resolves.toBe('cached')
    const span = otel.finished('breaker.call')[0]!
    expect(span.attributes['breaker.outcome']).toBe('fallback')
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
  })

  it('marks a call that outlived its timeout as timeout', async () => {
    otel.instrument()
    const c = otel.circuit('slow', { timeout: 5 })
    const waitForAbort = (signal: AbortSignal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    await expect(c.call(waitForAbort)).rejects.toThrow()
    const span = otel.finished('breaker.call')[0]!
    expect(span.attributes).toMatchObject({ 'breaker.outcome': 'timeout', 'error.type': 'CircuitTimeoutError' })
  })

  it('reports half_open as the admission state of a probe after the reset delay', async () => {
    otel.instrument()
    const c = otel.circuit('probing')
    await expect(c.call(fail())).rejects.toThrow()
    await expect(c.call(fail())).rejects.toThrow()
    otel.clock.advance(1_000)
    otel.spans.reset()
    await expect(c.call(() => 'probe ok')).resolves.toBe('probe ok')
    const span = otel.finished('breaker.call')[0]!
    expect(span.attributes).toMatchObject({ 'breaker.state': 'half_open', 'breaker.outcome': 'success' })
  })

  it('records no call spans with traceCalls: false', async () => {
    otel.instrument({ traceCalls: false })
    const c = otel.circuit('untraced')
    await c.call(() => 1)
    expect(otel.finished('breaker.call')).toHaveLength(0)
  })
})
