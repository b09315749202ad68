import diagnostics from 'node:diagnostics_channel'
import { CHANNELS } from '@breaker/core'
import type { StorageChainOperationMessage, StorageFallbackMessage, StorageOperationMessage } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { MemoryStorage } from '@breaker/storage-memory'
import { describe, expect, it } from 'vitest'
import { STORAGE_DURATION_BUCKETS } from '../src/index.js'
import { BrokenStorage } from './support/broken-storage.js'
import { DataPointType, fail, useContextManager, useOtel, valueOf } from './support/harness.js'

useContextManager()

const publish = (name: string, message: unknown) => diagnostics.channel(name).publish(message)

const fallback: StorageFallbackMessage = {
  backend: 'redis',
  nextBackend: 'memory',
  operation: 'record',
  errorClass: 'StorageTimeoutError',
  errorMessage: 'late',
  durationMs: 5,
  backendIndex: 0,
  circuit: 'payments',
}

describe('metrics', () => {
  const otel = useOtel()

  it('counts breaker.calls by circuit and outcome', async () => {
    otel.instrument()
    const a = otel.circuit('a')
    const b = otel.circuit('b', { fallback: 'cached' })
    await a.call(() => 1)
    await a.call(() => 2)
    await expect(a.call(fail())).rejects.toThrow()
    await expect(a.call(fail())).rejects.toThrow()
    await expect(a.call(() => 3)).rejects.toThrow(/is open/)
    await b.call(fail())
    const points = await otel.points('breaker.calls')
    expect(valueOf(points, { 'breaker.circuit': 'a', 'breaker.outcome': 'success' })).toBe(2)
    expect(valueOf(points, { 'breaker.circuit': 'a', 'breaker.outcome': 'failure' })).toBe(2)
    expect(valueOf(points, { 'breaker.circuit': 'a', 'breaker.outcome': 'rejected' })).toBe(1)
    expect(valueOf(points, { 'breaker.circuit': 'b', 'breaker.outcome': 'fallback' })).toBe(1)
    expect(points).toHaveLength(4)
    const metric = (await otel.metrics()).get('breaker.calls')!
    expect(metric.descriptor.unit).toBe('{call}')
  })

  it('counts breaker.calls with call spans off too', async () => {
    otel.instrument({ traceCalls: false })
    const c = otel.circuit('counted')
    await c.call(() => 1)
    expect(valueOf(await otel.points('breaker.calls'), { 'breaker.circuit': 'counted', 'breaker.outcome': 'success' })).toBe(1)
  })

  it('counts breaker.transitions by circuit, from and to', async () => {
    otel.instrument()
    const c = otel.circuit('moving')
    await expect(c.call(fail())).rejects.toThrow()
    await expect(c.call(fail())).rejects.toThrow()
    otel.clock.advance(1_000)
    await c.call(() => 'probe')
    await c.forceOpen()
    const points = await otel.points('breaker.transitions')
    const moves = points.map((p) => [p.attributes['breaker.transition.from'], p.attributes['breaker.transition.to'], p.value])
    expect(moves).toEqual(
      expect.arrayContaining([
        ['closed', 'open', 2],
        ['open', 'half_open', 1],
        ['half_open', 'closed', 1],
      ]),
    )
    expect(points.every((p) => p.attributes['breaker.circuit'] === 'moving')).toBe(true)
  })

  it('reports breaker.state per registered circuit: 0 closed, 1 half_open, 2 open', async () => {
    otel.instrument()
    const closed = otel.circuit('stays-closed')
    const open = otel.circuit('goes-open')
    const halfOpen = otel.circuit('goes-half-open', { halfOpenCalls: 1 })
    await closed.call(() => 1)
    await open.forceOpen()
    await halfOpen.forceOpen()
    otel.clock.advance(1_000)
    let release!: () => void
    const probe = halfOpen.call(() => new Promise<void>((resolve) => (release = resolve)))
    await Promise.resolve()
    const points = await otel.points('breaker.state')
    expect(valueOf(points, { 'breaker.circuit': 'stays-closed' })).toBe(0)
    expect(valueOf(points, { 'breaker.circuit': 'goes-half-open' })).toBe(1)
    expect(valueOf(points, { 'breaker.circuit': 'goes-open' })).toBe(2)
    const metric = (await otel.metrics()).get('breaker.state')!
    expect(metric.dataPointType).toBe(DataPointType.GAUGE)
    release()
    await probe
  })

  it('counts breaker.storage.fallbacks by backend, next backend and error.type', async () => {
    otel.instrument()
    publish(CHANNELS.storageFallback, fallback)
    publish(CHANNELS.storageFallback, fallback)
    publish(CHANNELS.storageFallback, { ...fallback, backend: 'memory', nextBackend: null, errorClass: 'Error' })
    const points = await otel.points('breaker.storage.fallbacks')
    expect(points).toEqual(
      expect.arrayContaining([
        { attributes: { 'breaker.storage.backend': 'redis', 'breaker.storage.next_backend': 'memory', 'error.type': 'StorageTimeoutError' }, value: 2 },
        { attributes: { 'breaker.storage.backend': 'memory', 'error.type': 'Error' }, value: 1 },
      ]),
    )
  })

  it('records breaker.storage.duration in seconds per backend attempt and per chain operation with traceStorage', async () => {
    otel.instrument({ traceStorage: true })
    const operation: StorageOperationMessage = { backend: 'memory', backendIndex: 1, operation: 'record', circuit: 'payments', durationMs: 0.2 }
    const chain: StorageChainOperationMessage = { operation: 'record', circuit: 'payments', backend: 'memory', backendIndex: 1, durationMs: 5.4, success: true }
    publish(CHANNELS.storageFallback, fallback)
    publish(CHANNELS.storageOperation, operation)
    publish(CHANNELS.storageChainOperation, chain)
    publish(CHANNELS.storageChainOperation, { ...chain, backend: null, success: false, durationMs: 9 })
    const metric = (await otel.metrics()).get('breaker.storage.duration')!
    expect(metric.descriptor.unit).toBe('s')
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM)
    const series = metric.dataPoints.map((p) => ({ attributes: p.attributes, sum: (p.value as { sum: number }).sum }))
    const key = (attributes: object) => JSON.stringify(Object.entries(attributes).sort())
    const sumOf = (attributes: Record<string, string>) => series.find((s) => key(s.attributes) === key(attributes))?.sum
    expect(sumOf({ 'breaker.storage.backend': 'redis', 'breaker.storage.operation': 'record', 'breaker.storage.layer': 'backend', 'error.type': 'StorageTimeoutError' })).toBeCloseTo(0.005, 9)
    expect(sumOf({ 'breaker.storage.backend': 'memory', 'breaker.storage.operation': 'record', 'breaker.storage.layer': 'backend' })).toBeCloseTo(0.0002, 9)
    expect(sumOf({ 'breaker.storage.backend': 'memory', 'breaker.storage.operation': 'record', 'breaker.storage.layer': 'chain' })).toBeCloseTo(0.0054, 9)
    expect(sumOf({ 'breaker.storage.operation': 'record', 'breaker.storage.layer': 'chain', 'error.type': '_OTHER' })).toBeCloseTo(0.009, 9)
    expect(series).toHaveLength(4)
  })

  it('buckets breaker.storage.duration on explicit boundaries in seconds, from 50 µs to 2.5 s', async () => {
    otel.instrument({ traceStorage: true })
    publish(CHANNELS.storageOperation, { backend: 'memory', backendIndex: 0, operation: 'record', circuit: 'x', durationMs: 0.07 })
    const point = (await otel.metrics()).get('breaker.storage.duration')!.dataPoints[0]!
    const { boundaries, counts } = (point.value as { buckets: { boundaries: number[]; counts: number[] } }).buckets
    expect(boundaries).toEqual([...STORAGE_DURATION_BUCKETS])
    expect(boundaries[0]).toBe(0.00005)
    expect(boundaries.at(-1)).toBe(2.5)
    // 70 µs lands in (50 µs, 100 µs].
    expect(counts[1]).toBe(1)
  })

  it('records no breaker.storage.duration without traceStorage', async () => {
    otel.instrument()
    publish(CHANNELS.storageOperation, { backend: 'memory', backendIndex: 0, operation: 'record', circuit: 'x', durationMs: 1 })
    expect(await otel.points('breaker.storage.duration')).toEqual([])
  })

  it('measures a real FallbackChainStorage: fallbacks counted and durations for both layers', async () => {
    otel.instrument({ traceStorage: true })
    const chain = new FallbackChainStorage(
      [
        { storage: new BrokenStorage('primary'), timeout: 50 },
        { storage: new MemoryStorage({ clock: otel.clock.now }), timeout: 50 },
      ],
      { clock: otel.clock.now },
    )
    const c = otel.circuit('chained', { storage: chain })
    await c.call(() => 'ok')
    await c.flush()
    const fallbacks = await otel.points('breaker.storage.fallbacks')
    expect(valueOf(fallbacks, { 'breaker.storage.backend': 'primary', 'breaker.storage.next_backend': 'memory', 'error.type': 'ConnectionLost' })).toBeGreaterThan(0)
    const durations = (await otel.metrics()).get('breaker.storage.duration')!.dataPoints
    const layers = new Set(durations.map((p) => `${p.attributes['breaker.storage.layer']}:${p.attributes['breaker.storage.backend']}`))
    expect(layers).toEqual(new Set(['backend:primary', 'backend:memory', 'chain:memory']))
  })
})
