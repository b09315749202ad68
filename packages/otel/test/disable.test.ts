import diagnostics from 'node:diagnostics_channel'
import { CHANNELS } from '@breaker/core'
import { metrics, trace } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { instrumentBreakers } from '../src/index.js'
import { useContextManager, useOtel, valueOf } from './support/harness.js'

useContextManager()

const call = diagnostics.tracingChannel(CHANNELS.call)
const channelNames = [CHANNELS.transition, CHANNELS.storageFallback, CHANNELS.storageOperation, CHANNELS.storageChainOperation]
const anySubscribed = () => call.hasSubscribers || channelNames.some((name) => diagnostics.hasSubscribers(name))

describe('disable()', () => {
  const otel = useOtel()

  it('leaves every breaker channel without subscribers, so calls take the untraced path', () => {
    expect(anySubscribed()).toBe(false)
    const handle = otel.instrument({ traceStorage: true })
    expect(call.hasSubscribers).toBe(true)
    expect(channelNames.every((name) => diagnostics.hasSubscribers(name))).toBe(true)
    expect(handle.enabled).toBe(true)
    handle.disable()
    expect(handle.enabled).toBe(false)
    expect(anySubscribed()).toBe(false)
  })

  it('records no span and no metric after disable', async () => {
    const handle = otel.instrument()
    const c = otel.circuit('after-disable')
    handle.disable()
    await c.call(() => 1)
    await c.forceOpen()
    expect(otel.finished()).toEqual([])
    expect(await otel.points('breaker.calls')).toEqual([])
    expect(await otel.points('breaker.state')).toEqual([])
  })

  it('still ends the span of a call in flight, then lets go of the channel', async () => {
    const handle = otel.instrument()
    const c = otel.circuit('in-flight')
    let release!: (value: string) => void
    const pending = c.call(() => new Promise<string>((resolve) => (release = resolve)))
    handle.disable()
    expect(call.hasSubscribers).toBe(true)
    await c.call(() => 'untraced meanwhile')
    release('done')
    await expect(pending).resolves.toBe('done')
    const spans = otel.finished('breaker.call')
    expect(spans).toHaveLength(1)
    expect(spans[0]!.attributes['breaker.outcome']).toBe('success')
    expect(anySubscribed()).toBe(false)
  })

  it('does nothing when called twice', () => {
    const handle = otel.instrument()
    handle.disable()
    expect(() => handle.disable()).not.toThrow()
    expect(anySubscribed()).toBe(false)
  })

  it('keeps a second instrumentation working when the first is disabled', async () => {
    const first = otel.instrument()
    otel.instrument()
    first.disable()
    await otel.circuit('second').call(() => 1)
    expect(otel.finished('breaker.call')).toHaveLength(1)
  })
})

describe('global providers', () => {
  const otel = useOtel()

  it('uses the global tracer and meter providers when none are passed', async () => {
    trace.setGlobalTracerProvider(otel.tracerProvider)
    metrics.setGlobalMeterProvider(otel.meterProvider)
    try {
      const handle = instrumentBreakers({ registry: otel.registry })
      try {
        await otel.circuit('global').call(() => 1)
      } finally {
        handle.disable()
      }
      expect(otel.finished('breaker.call')).toHaveLength(1)
      expect(valueOf(await otel.points('breaker.calls'), { 'breaker.circuit': 'global' })).toBe(1)
    } finally {
      trace.disable()
      metrics.disable()
    }
  })
})

describe('call totals across disable()', () => {
  const otel = useOtel()

  it('reports calls counted before disable() at the next collection, and counts none after it', async () => {
    const handle = otel.instrument()
    const c = otel.circuit('counted-then-disabled')
    await c.call(() => 1)
    handle.disable()
    await c.call(() => 2)
    expect(valueOf(await otel.points('breaker.calls'), { 'breaker.circuit': 'counted-then-disabled' })).toBe(1)
    await Promise.resolve()
    await c.call(() => 3)
    // A cumulative stream keeps its last total; what matters is that it no longer grows.
    expect(valueOf(await otel.points('breaker.calls'), { 'breaker.circuit': 'counted-then-disabled' })).toBe(1)
  })
})
