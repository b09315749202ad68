import diagnostics from 'node:diagnostics_channel'
import { CHANNELS } from '@breaker/core'
import type { StorageFallbackMessage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { MemoryStorage } from '@breaker/storage-memory'
import { SpanKind } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { BrokenStorage } from './support/broken-storage.js'
import { fail, useContextManager, useOtel } from './support/harness.js'

useContextManager()

const fallbackChannel = diagnostics.channel(CHANNELS.storageFallback)

function fallbackMessage(overrides: Partial<StorageFallbackMessage> = {}): StorageFallbackMessage {
  return {
    backend: 'redis',
    nextBackend: 'memory',
    operation: 'getStatus',
    errorClass: 'StorageTimeoutError',
    errorMessage: 'redis did not answer within 5 ms',
    durationMs: 5,
    backendIndex: 0,
    circuit: 'payments',
    ...overrides,
  }
}

describe('transition span events', () => {
  const otel = useOtel()

  it("puts the transition a call caused on that call's span", async () => {
    otel.instrument()
    const c = otel.circuit('tripping')
    await expect(c.call(fail())).rejects.toThrow()
    await expect(c.call(fail())).rejects.toThrow()
    const [first, second] = otel.finished('breaker.call')
    expect(first!.events.filter((e) => e.name === 'breaker.transition')).toHaveLength(0)
    const event = second!.events.find((e) => e.name === 'breaker.transition')!
    expect(event.attributes).toEqual({ 'breaker.transition.from': 'closed', 'breaker.transition.to': 'open', 'breaker.transition.epoch': 1 })
    expect(otel.finished('breaker.transition')).toHaveLength(0)
  })

  it('puts both transitions of a successful probe (open → half_open → closed) on the probe span', async () => {
    otel.instrument()
    const c = otel.circuit('recovering')
    await expect(c.call(fail())).rejects.toThrow()
    await expect(c.call(fail())).rejects.toThrow()
    otel.clock.advance(1_000)
    otel.spans.reset()
    await c.call(() => 'ok')
    const probe = otel.finished('breaker.call')[0]!
    const moves = probe.events.filter((e) => e.name === 'breaker.transition').map((e) => e.attributes)
    expect(moves).toEqual([
      { 'breaker.transition.from': 'open', 'breaker.transition.to': 'half_open', 'breaker.transition.epoch': 2 },
      { 'breaker.transition.from': 'half_open', 'breaker.transition.to': 'closed', 'breaker.transition.epoch': 3 },
    ])
  })

  it('gives a transition outside any call a short span of its own', async () => {
    otel.instrument()
    const c = otel.circuit('forced')
    await c.forceOpen()
    const [span, ...rest] = otel.finished('breaker.transition')
    expect(rest).toHaveLength(0)
    expect(span!.kind).toBe(SpanKind.INTERNAL)
    expect(span!.attributes).toEqual({ 'breaker.circuit': 'forced' })
    expect(span!.events.map((e) => [e.name, e.attributes])).toEqual([
      ['breaker.transition', { 'breaker.transition.from': 'closed', 'breaker.transition.to': 'open', 'breaker.transition.epoch': 1 }],
    ])
  })

  it("gives another circuit's transition inside a call its own span, a child of the call span", async () => {
    otel.instrument()
    const outer = otel.circuit('outer')
    const inner = otel.circuit('inner')
    await outer.call(() => inner.forceOpen())
    const call = otel.finished('breaker.call')[0]!
    expect(call.events.filter((e) => e.name === 'breaker.transition')).toHaveLength(0)
    const own = otel.finished('breaker.transition')[0]!
    expect(own.attributes['breaker.circuit']).toBe('inner')
    expect(own.parentSpanContext?.spanId).toBe(call.spanContext().spanId)
  })

  it('records transitions on short spans when call spans are off', async () => {
    otel.instrument({ traceCalls: false })
    const c = otel.circuit('quiet')
    await expect(c.call(fail())).rejects.toThrow()
    await expect(c.call(fail())).rejects.toThrow()
    expect(otel.finished('breaker.call')).toHaveLength(0)
    expect(otel.finished('breaker.transition').map((s) => s.events[0]!.attributes?.['breaker.transition.to'])).toEqual(['open'])
  })
})

describe('storage fallback span events', () => {
  const otel = useOtel()

  it("puts a fallback published during a call on that call's span", async () => {
    otel.instrument()
    const c = otel.circuit('payments')
    await c.call(() => fallbackChannel.publish(fallbackMessage()))
    const call = otel.finished('breaker.call')[0]!
    const event = call.events.find((e) => e.name === 'breaker.storage.fallback')!
    expect(event.attributes).toEqual({
      'breaker.storage.backend': 'redis',
      'breaker.storage.next_backend': 'memory',
      'breaker.storage.operation': 'getStatus',
      'error.type': 'StorageTimeoutError',
    })
  })

  it('gives a fallback outside any call a short span, without next_backend when none was left', () => {
    otel.instrument()
    fallbackChannel.publish(fallbackMessage({ nextBackend: null, circuit: undefined, operation: 'clearAll', errorClass: '' }))
    const span = otel.finished('breaker.storage.fallback')[0]!
    expect(span.attributes).toEqual({})
    expect(span.events[0]!.attributes).toEqual({
      'breaker.storage.backend': 'redis',
      'breaker.storage.operation': 'clearAll',
      'error.type': '_OTHER',
    })
  })

  it('records a real FallbackChainStorage falling back to memory on the call span', async () => {
    otel.instrument()
    const chain = new FallbackChainStorage(
      [
        { storage: new BrokenStorage('primary'), timeout: 50 },
        { storage: new MemoryStorage({ clock: otel.clock.now }), timeout: 50 },
      ],
      { clock: otel.clock.now },
    )
    const c = otel.circuit('chained', { storage: chain })
    await expect(c.call(() => 'served')).resolves.toBe('served')
    const call = otel.finished('breaker.call')[0]!
    const fallbacks = call.events.filter((e) => e.name === 'breaker.storage.fallback').map((e) => e.attributes)
    expect(fallbacks.length).toBeGreaterThan(0)
    expect(fallbacks[0]).toEqual({
      'breaker.storage.backend': 'primary',
      'breaker.storage.next_backend': 'memory',
      'breaker.storage.operation': 'getStatus',
      'error.type': 'ConnectionLost',
    })
  })
})

describe('events after the call span ended', () => {
  const otel = useOtel()

  it('gives a transition a write finished after its call a short span, a child of that call', async () => {
    otel.instrument()
    // Every storage answer arrives a tick later, like a network backend: the close after a
    // successful probe is written after the call has already settled.
    const memory = new MemoryStorage({ clock: otel.clock.now })
    const remote = new Proxy(memory, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (typeof value !== 'function') return value
        if (key === 'subscribe') return value.bind(target)
        return (...args: unknown[]) => Promise.resolve().then(() => value.apply(target, args))
      },
    })
    const c = otel.circuit('remote', { storage: remote })
    await c.forceOpen()
    otel.clock.advance(1_000)
    otel.spans.reset()
    await c.call(() => 'probe')
    await c.flush()
    const probe = otel.finished('breaker.call')[0]!
    const onProbe = probe.events.filter((e) => e.name === 'breaker.transition').map((e) => e.attributes?.['breaker.transition.to'])
    expect(onProbe).toEqual(['half_open'])
    const late = otel.finished('breaker.transition')
    expect(late.map((s) => s.events[0]!.attributes?.['breaker.transition.to'])).toEqual(['closed'])
    expect(late[0]!.parentSpanContext?.spanId).toBe(probe.spanContext().spanId)
  })
})
