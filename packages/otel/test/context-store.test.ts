import { AsyncLocalStorage } from 'node:async_hooks'
import { context, createContextKey } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { CallTracer } from '../src/call-tracing.js'
import { chooseContextStore, contextManagerStorage } from '../src/context-store.js'
import { useOtel } from './support/harness.js'

const KEY = createContextKey('test')

afterEach(() => {
  context.disable()
})

describe('choosing the store bound to the call channel', () => {
  it('on runtimes whose channels call store.run, answers a fresh public-API store that enters the context', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    const a = chooseContextStore(false)!
    const b = chooseContextStore(false)!
    expect(a).not.toBe(b)
    const seen = (a as { run: (v: unknown, f: () => unknown) => unknown }).run(context.active().setValue(KEY, 'inside'), () =>
      context.active().getValue(KEY),
    )
    expect(seen).toBe('inside')
  })

  it("on runtimes with store scopes, answers the context manager's own AsyncLocalStorage", () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    const store = chooseContextStore(true)
    expect(store).toBeInstanceOf(AsyncLocalStorage)
    expect(store).toBe(contextManagerStorage())
  })

  it('on runtimes with store scopes and no AsyncLocalStorage context manager, answers none', () => {
    expect(chooseContextStore(true)).toBeUndefined()
  })
})

describe('call spans on each branch', () => {
  const otel = useOtel()

  async function nestedUnder(choose: () => ReturnType<typeof chooseContextStore>) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    const tracer = otel.tracerProvider.getTracer('@breaker/otel')
    const calls = new CallTracer(tracer, () => {}, choose)
    calls.enable()
    try {
      await otel.tracer().startActiveSpan('request', async (request) => {
        await otel.circuit('branch').call(async () => {
          await Promise.resolve()
          otel.tracer().startSpan('user-work').end()
        })
        request.end()
      })
    } finally {
      calls.disable()
    }
    const [call, request, user] = ['breaker.call', 'request', 'user-work'].map((name) => otel.finished(name)[0]!)
    expect(call!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId)
    return user!.parentSpanContext?.spanId === call!.spanContext().spanId
  }

  it("nests the user's spans when the context manager's AsyncLocalStorage itself is bound", async () => {
    expect(await nestedUnder(() => chooseContextStore(true))).toBe(true)
  })

  it('still parents the call span to the caller when no store can be bound (no nesting then)', async () => {
    expect(await nestedUnder(() => undefined)).toBe(false)
  })
})
