// The first hour of a new user, as a script: circuits on every backend that runs here, shared
// between two instances, behind a fallback chain, traced and measured by the OpenTelemetry SDK.
// Exits non-zero (an assertion) when anything is off.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import KeyvRedis from '@keyv/redis'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { Redis } from 'ioredis'
import Keyv from 'keyv'
import {
  BucketMemoryStorage,
  Circuit,
  FallbackChainStorage,
  KeyvStorage,
  MemoryStorage,
  NullStorage,
  RedisStorage,
  SysVStorage,
  instrumentBreakers,
  isCircuitOpenError,
  isSupported,
} from './every-package.js'
import type { Storage } from './every-package.js'

const redisUrl = process.env.REDIS_URL
if (!redisUrl) throw new Error('REDIS_URL is not set: point it at a Redis this script may write to')

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}
const spans = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
const reader = new ManualReader()
const meterProvider = new MeterProvider({ readers: [reader] })
const telemetry = instrumentBreakers({ tracerProvider, meterProvider, traceStorage: true })

const boom = (): never => {
  throw new Error('upstream down')
}
const run = `${process.pid}-${Date.now()}`

/** Trips a circuit through instance `a`, then checks that instance `b` (same backend) is turned away. */
async function shared(label: string, a: Storage, b: Storage): Promise<void> {
  const name = `first-hour-${label}-${run}`
  const options = { threshold: { failures: 2, within: 60_000 }, resetAfter: 60_000, registry: false } as const
  const first = new Circuit(name, { storage: a, ...options })
  const second = new Circuit(name, { storage: b, ...options })
  assert.equal(await first.call(() => 'served'), 'served')
  await assert.rejects(first.call(boom), /upstream down/)
  await assert.rejects(first.call(boom), /upstream down/)
  assert.equal(first.state, 'open', `${label}: two failures open the circuit`)
  const rejection = await second.call(() => 'must not run').then(
    () => undefined,
    (error: unknown) => error,
  )
  assert.ok(isCircuitOpenError(rejection), `${label}: the other instance is turned away, got ${String(rejection)}`)
  await first.dispose()
  await second.dispose()
  console.log(`ok ${label}: two instances share one circuit`)
}

const closers: Array<() => Promise<unknown>> = []
try {
  // In-process: one storage, two circuits of the same name.
  const bucket = new BucketMemoryStorage()
  await shared('bucket', bucket, bucket)

  // Redis: two clients, as two processes would have.
  const clients = [new Redis(redisUrl), new Redis(redisUrl)]
  closers.push(() => Promise.all(clients.map((c) => c.quit())))
  const [redisA, redisB] = clients.map((client) => new RedisStorage({ client }))
  closers.push(() => Promise.all([redisA!.close(), redisB!.close()]))
  await shared('redis', redisA!, redisB!)

  // Keyv on the same Redis, through node-redis.
  const keyvs = [new Keyv({ store: new KeyvRedis(redisUrl) }), new Keyv({ store: new KeyvRedis(redisUrl) })]
  closers.push(() => Promise.all(keyvs.map((k) => k.disconnect())))
  await shared('keyv', new KeyvStorage({ keyv: keyvs[0]! }), new KeyvStorage({ keyv: keyvs[1]! }))

  // SysV shared memory: two attachments of one segment.
  assert.ok(isSupported(), 'the SysV addon loads (prebuilt, or compiled at install)')
  const segment = mkdtempSync(join(tmpdir(), 'breaker-first-hour-'))
  const sysvA = new SysVStorage({ path: segment })
  const sysvB = new SysVStorage({ path: segment })
  closers.push(async () => {
    await sysvA.close()
    await sysvB.close()
    SysVStorage.remove(segment)
    rmSync(segment, { recursive: true, force: true })
  })
  await shared('sysv', sysvA, sysvB)
  // …and a process of its own, as a cluster worker or a PM2 instance would be.
  const peer = execFileSync(process.execPath, [new URL('./sysv-peer.js', import.meta.url).pathname, segment, `first-hour-sysv-${run}`], {
    encoding: 'utf8',
  })
  assert.equal(peer.trim(), 'rejected', 'another process sees the circuit open')
  console.log('ok sysv: another process sees it too')

  // The fallback chain, Redis first, and what OpenTelemetry saw of it all.
  const chain = new FallbackChainStorage({
    primary: { storage: redisA!, timeout: 50 },
    fallback: { storage: new MemoryStorage(), timeout: 5 },
    final: { storage: new NullStorage(), timeout: 1 },
  })
  const traced = new Circuit(`first-hour-chain-${run}`, { storage: chain, registry: false })
  assert.equal(await traced.call(async () => 42), 42)
  await traced.dispose()

  const calls = spans.getFinishedSpans().filter((s) => s.name === 'breaker.call')
  assert.ok(calls.some((s) => s.attributes['breaker.circuit'] === `first-hour-chain-${run}` && s.attributes['breaker.outcome'] === 'success'))
  assert.ok(calls.some((s) => s.attributes['breaker.outcome'] === 'rejected' && s.attributes['error.type'] === 'CircuitOpenError'))
  const { resourceMetrics } = await reader.collect()
  const metrics = new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => [m.descriptor.name, m] as const)))
  assert.ok(metrics.has('breaker.calls'), 'breaker.calls is collected')
  assert.equal(metrics.get('breaker.storage.duration')?.descriptor.unit, 's', 'storage durations are in seconds')
  console.log(`ok otel: ${calls.length} call spans, ${metrics.size} metrics`)
} finally {
  telemetry.disable()
  for (const close of closers.reverse()) await close()
  await meterProvider.shutdown()
}
console.log('first hour: ok')
