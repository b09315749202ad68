import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoProcess, until } from './helpers/demo-process.js'
import type { RunningDemo } from './helpers/demo-process.js'
import { startRedisServer } from './helpers/redis-server.js'
import type { RedisServer } from './helpers/redis-server.js'

interface CircuitView {
  name: string
  worker: number
  storage: string
  state: string
}

describe('with REDIS_URL, on 2 cluster workers', () => {
  let redis: RedisServer
  let demo: RunningDemo
  const url = (path: string) => new URL(path, demo.url).toString()
  const circuits = async () => (await (await fetch(url('/api/circuits'))).json()) as CircuitView[]
  const post = (path: string, body: unknown) => fetch(url(path), { method: 'POST', body: JSON.stringify(body) })

  beforeAll(async () => {
    redis = await startRedisServer()
    demo = await startDemoProcess(['--workers', '2', '--rate', '40'], { REDIS_URL: redis.url })
  })
  afterAll(async () => {
    await demo?.stop()
    await redis?.stop()
  })

  it('wires RedisStorage, KeyvStorage and a redis → memory → null chain in every worker', async () => {
    expect(demo.output()).toMatch(/payments +→ RedisStorage/)
    expect(demo.output()).toMatch(/profiles +→ KeyvStorage/)
    const all = await circuits()
    const storageOf = (name: string) => new Set(all.filter((c) => c.name === name).map((c) => `${c.worker}:${c.storage}`))
    expect(storageOf('payments')).toEqual(new Set(['1:redis', '2:redis']))
    expect(storageOf('profiles')).toEqual(new Set(['1:keyv', '2:keyv']))
    expect(storageOf('checkout')).toEqual(new Set(['1:chain redis → memory → null', '2:chain redis → memory → null']))
  })

  it('opens the Redis circuits in both workers, and falls back to memory when Redis is broken', async () => {
    expect((await post('/api/upstream', { failureRate: 1 })).status).toBe(200)
    await until('payments and profiles open in both workers', async () => {
      const shared = (await circuits()).filter((c) => c.name === 'payments' || c.name === 'profiles')
      return shared.length === 4 && shared.every((c) => c.state === 'open')
    })
    expect((await post('/api/storage/primary', { mode: 'hang' })).status).toBe(200)
    const fallback = await until('a fallback from redis to memory', async () => {
      const { events } = (await (await fetch(url('/api/overview'))).json()) as { events: Array<{ kind: string; backend: string; nextBackend: string; errorClass: string }> }
      return events.find((e) => e.kind === 'fallback' && e.backend === 'redis')
    })
    expect(fallback).toMatchObject({ nextBackend: 'memory', errorClass: 'StorageTimeoutError' })
  }, 40_000)
})
