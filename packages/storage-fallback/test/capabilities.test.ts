import { describe, expect, it } from 'vitest'
import { NullStorage } from '@breaker/core'
import type { ProbeLease, StatusChange, Storage, StorageCapabilities } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { MemoryStorage } from '@breaker/storage-memory'
import { manualClock, throwing } from './fixtures/faulty.js'
import { MapStorage } from './fixtures/map-storage.js'

function withCapabilities(storage: MapStorage, capabilities: Partial<StorageCapabilities>, drop: string[] = []): Storage {
  const view = Object.create(storage) as Record<string, unknown>
  view['capabilities'] = { ...storage.capabilities, ...capabilities }
  for (const method of drop) view[method] = undefined
  return view as unknown as Storage
}

describe('capabilities', () => {
  const { clock } = manualClock()
  const record = { status: 'open' as const, openedAt: clock(), epoch: 1, updatedAt: clock() }

  it('declares the narrowest scope and what every stateful backend honours, leaving a final NullStorage out', () => {
    const redis = withCapabilities(new MapStorage(clock, 'redis'), { scope: 'cluster' })
    const chain = new FallbackChainStorage([{ storage: redis }, { storage: new MemoryStorage({ clock }) }, { storage: new NullStorage() }])
    expect(chain.capabilities).toEqual({ scope: 'process', atomic: true, cas: true, leases: true, subscribe: true, eventLog: true })
    const clusterOnly = new FallbackChainStorage([{ storage: redis }, { storage: new NullStorage() }])
    expect(clusterOnly.capabilities.scope).toBe('cluster')
  })

  it('offers no CAS, leases, subscribe or event log when one stateful backend lacks them', () => {
    const bare = withCapabilities(new MapStorage(clock, 'keyv'), { cas: false, leases: false, subscribe: false, atomic: false, eventLog: false }, [
      'compareAndSetStatus',
      'acquireProbe',
      'subscribe',
      'eventLog',
    ])
    const chain = new FallbackChainStorage([{ storage: new MapStorage(clock, 'redis') }, { storage: bare }, { storage: new NullStorage() }])
    expect(chain.capabilities).toEqual({ scope: 'process', atomic: false, cas: false, leases: false, subscribe: false })
    expect(chain.compareAndSetStatus).toBeUndefined()
    expect(chain.acquireProbe).toBeUndefined()
    expect(chain.subscribe).toBeUndefined()
    expect(chain.eventLog).toBeUndefined()
  })

  it('treats a NullStorage that is the only backend as what it is', () => {
    const chain = new FallbackChainStorage([{ storage: new NullStorage() }])
    expect(chain.capabilities).toEqual(new NullStorage().capabilities)
    expect(chain.compareAndSetStatus).toBeUndefined()
  })

  it('reads the declarations, not the methods: a backend that has eventLog() but does not declare it keeps the chain from offering one', () => {
    const undeclared = withCapabilities(new MapStorage(clock, 'keyv'), { eventLog: false })
    const chain = new FallbackChainStorage([{ storage: new MapStorage(clock, 'redis') }, { storage: undeclared }])
    expect(chain.capabilities.eventLog).toBeUndefined()
    expect(chain.eventLog).toBeUndefined()
  })

  it('recognises a stateless backend by its declaration, whatever its name', () => {
    const nothing = Object.assign(Object.create(new NullStorage()) as NullStorage, { name: 'nothing' })
    const chain = new FallbackChainStorage([{ storage: throwing('redis') }, { storage: nothing }], { clock })
    expect(chain.capabilities).toMatchObject({ scope: 'cluster', cas: true, leases: true })
    expect(chain.compareAndSetStatus!('a', 7, record)).toBe(true)
  })

  it('declares the smallest maxNameBytes any backend declares', () => {
    const short = withCapabilities(new MapStorage(clock, 'sysv'), { maxNameBytes: 64 })
    const long = withCapabilities(new MapStorage(clock, 'redis'), { maxNameBytes: 512 })
    expect(new FallbackChainStorage([{ storage: long }, { storage: short }, { storage: new NullStorage() }]).capabilities.maxNameBytes).toBe(64)
    expect(new FallbackChainStorage([{ storage: new MapStorage(clock) }]).capabilities.maxNameBytes).toBeUndefined()
  })

  it('answers CAS on a final NullStorage as a write that wins, since it keeps nothing to compare', () => {
    const chain = new FallbackChainStorage([{ storage: throwing('redis') }, { storage: new NullStorage() }], { clock })
    expect(chain.compareAndSetStatus!('a', 7, record)).toBe(true)
  })

  it('hands out a probe permit from a final NullStorage to every caller, as fail-open does', () => {
    const chain = new FallbackChainStorage([{ storage: throwing('redis') }, { storage: new NullStorage() }], { clock })
    const lease = chain.acquireProbe!('a', 1, 5000)
    expect(lease).toMatchObject({ expiresAt: clock() + 5000 })
    expect(chain.acquireProbe!('a', 1, 5000)).not.toBeNull()
    expect(chain.eventLog!('a', 10)).toEqual([])
  })

  it('hands out permits from the backend that answers, with release going back to it', () => {
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: memory }, { storage: new NullStorage() }], { clock })
    const lease = chain.acquireProbe!('a', 1, 5000)
    expect(lease).not.toBeNull()
    expect(chain.acquireProbe!('a', 1, 5000)).toBeNull()
    ;(lease as ProbeLease).release()
    expect(chain.acquireProbe!('a', 1, 5000)).not.toBeNull()
  })

  it('subscribes to every backend that can push, and pushes itself what lands on a final NullStorage', () => {
    const redis = new MapStorage(clock, 'redis')
    const memory = new MapStorage(clock, 'memory')
    const chain = new FallbackChainStorage([{ storage: redis }, { storage: memory }, { storage: new NullStorage() }], { clock, unhealthyAfter: 100 })
    const seen: Array<[string, number]> = []
    const off = chain.subscribe!((change) => void (change.resync || seen.push([change.circuit, change.record.epoch])))
    chain.setStatus('a', record)
    memory.setStatus('b', { ...record, epoch: 2 })
    const down = () => {
      throw new Error('down')
    }
    Object.assign(redis, { setStatus: down })
    Object.assign(memory, { setStatus: down })
    chain.setStatus('c', { ...record, epoch: 3 })
    off()
    chain.setStatus('d', { ...record, epoch: 4 })
    expect(seen).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ])
  })

  it('passes retain on to every backend that has it, and releases each once', () => {
    const held: string[] = []
    const retaining = (name: string) =>
      Object.assign(Object.create(new MapStorage(clock, name)) as MapStorage, {
        retain: (circuit: string) => {
          held.push(`${name}:${circuit}`)
          return () => void held.splice(held.indexOf(`${name}:${circuit}`), 1)
        },
      })
    const chain = new FallbackChainStorage([{ storage: retaining('redis') }, { storage: new MapStorage(clock) }, { storage: retaining('memory') }])
    const release = chain.retain!('a')
    expect(held).toEqual(['redis:a', 'memory:a'])
    release()
    release()
    expect(held).toEqual([])
    expect(new FallbackChainStorage([{ storage: new MapStorage(clock) }]).retain).toBeUndefined()
  })
})
