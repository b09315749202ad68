// Core's per-call cost on BucketMemoryStorage against cockatiel and opossum configured alike
// (10 s window, 50 % failure rate, 20 minimum calls, no timeouts) and a bare `await fn()`;
// plus bytes per circuit. Run with `pnpm bench core` (node --expose-gc).
import { bench, do_not_optimize, run, summary } from 'mitata'
import { Circuit } from '../packages/core/dist/index.js'
import { BucketMemoryStorage } from '../packages/storage-bucket/dist/index.js'
import { ConsecutiveBreaker, SamplingBreaker, circuitBreaker, handleAll } from 'cockatiel'
import Opossum from 'opossum'

const WINDOW = 10_000
const ok = async () => 1
const boom = new Error('boom')
let n = 0
const mix = async () => {
  if (++n % 10 === 0) throw boom // 10 % failures: under the 50 % threshold, the circuit stays closed
  return 1
}

const ours = (name, storage = new BucketMemoryStorage({ bucketCount: WINDOW / 1000 })) =>
  new Circuit(name, { storage, registry: false, threshold: { failureRate: 0.5, minimumCalls: 20, within: WINDOW }, resetAfter: 30_000 })
const cockatiel = () =>
  circuitBreaker(handleAll, {
    halfOpenAfter: 30_000,
    breaker: new SamplingBreaker({ threshold: 0.5, duration: WINDOW, minimumRps: 20 / (WINDOW / 1000) }),
  })
const opossum = (fn) =>
  new Opossum(fn, { timeout: false, errorThresholdPercentage: 50, rollingCountTimeout: WINDOW, volumeThreshold: 20, resetTimeout: 30_000 })

const closed = { ours: ours('closed'), cockatiel: cockatiel(), opossum: opossum(ok) }
const mixed = { ours: ours('mixed'), cockatiel: cockatiel(), opossum: opossum(mix) }
const open = { ours: ours('open'), cockatiel: circuitBreaker(handleAll, { halfOpenAfter: 1e9, breaker: new ConsecutiveBreaker(1) }), opossum: opossum(ok) }
await open.ours.forceOpen()
open.ours.call(ok) // settles the lazy status read path once
await open.cockatiel.execute(() => Promise.reject(boom)).catch(() => {})
open.opossum.open()

const swallow = () => {}
summary(() => {
  bench('closed: bare await fn()', async () => do_not_optimize(await ok()))
  bench('closed: @breaker/core (bucket)', async () => do_not_optimize(await closed.ours.call(ok)))
  bench('closed: cockatiel', async () => do_not_optimize(await closed.cockatiel.execute(ok)))
  bench('closed: opossum', async () => do_not_optimize(await closed.opossum.fire()))
})
summary(() => {
  bench('open rejection: @breaker/core (bucket)', async () => await open.ours.call(ok).catch(swallow))
  bench('open rejection: cockatiel', async () => await open.cockatiel.execute(ok).catch(swallow))
  bench('open rejection: opossum', async () => await open.opossum.fire().catch(swallow))
})
summary(() => {
  bench('10% failures: bare await fn()', async () => await mix().catch(swallow))
  bench('10% failures: @breaker/core (bucket)', async () => await mixed.ours.call(mix).catch(swallow))
  bench('10% failures: cockatiel', async () => await mixed.cockatiel.execute(mix).catch(swallow))
  bench('10% failures: opossum', async () => await mixed.opossum.fire().catch(swallow))
})

const results = await run({ format: 'mitata', colors: false })

// Bytes per circuit: 5 000 circuits that each made one call, measured after a full GC. The
// bucket rings live in ArrayBuffers, which heapUsed does not count: arrayBuffers is added.
const used = () => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}
async function bytesPer(make) {
  const count = 5000
  global.gc()
  const before = used()
  const kept = []
  for (let i = 0; i < count; i++) kept.push(await make(i))
  global.gc()
  const after = used()
  do_not_optimize(kept)
  return Math.round((after - before) / count)
}
const shared = new BucketMemoryStorage()
const sized = new BucketMemoryStorage({ bucketCount: WINDOW / 1000 })
const memory = {
  '@breaker/core (bucket)': await bytesPer(async (i) => {
    const c = ours(`mem-${i}`, sized)
    await c.call(ok)
    return c
  }),
  '@breaker/core (bucket, default 300 s ring)': await bytesPer(async (i) => {
    const c = ours(`mem300-${i}`, shared)
    await c.call(ok)
    return c
  }),
  cockatiel: await bytesPer(async () => {
    const p = cockatiel()
    await p.execute(ok)
    return p
  }),
  opossum: await bytesPer(async () => {
    const b = opossum(ok)
    await b.fire()
    b.shutdown() // opossum keeps interval timers per breaker; stop them so the process can exit
    return b
  }),
}

// The table for the README: ns per call (mitata's average) and the ratio to cockatiel.
const avg = (name) => results.benchmarks.find((b) => b.alias === name)?.runs[0]?.stats?.avg
const row = (label, prefix) => {
  const o = avg(`${prefix}: @breaker/core (bucket)`)
  const c = avg(`${prefix}: cockatiel`)
  const p = avg(`${prefix}: opossum`)
  const bare = avg(`${prefix}: bare await fn()`)
  const f = (x) => (x === undefined ? '—' : `${x.toFixed(0)} ns`)
  return `| ${label} | ${f(bare)} | ${f(o)} | ${f(c)} | ${f(p)} | ${(o / c).toFixed(2)}× |`
}
console.log('\n| path | bare `await fn()` | @breaker/core | cockatiel 3.2.1 | opossum 9.0.0 | core / cockatiel |')
console.log('|---|---|---|---|---|---|')
console.log(row('closed', 'closed'))
console.log(row('open rejection', 'open rejection'))
console.log(row('10 % failures', '10% failures'))
const m = memory['@breaker/core (bucket)']
const m300 = memory['@breaker/core (bucket, default 300 s ring)']
console.log(`| bytes per circuit (ring sized to the 10 s window) | — | ${m} B | ${memory.cockatiel} B | ${memory.opossum} B | ${(m / memory.cockatiel).toFixed(2)}× |`)
console.log(`| bytes per circuit (default 300 s ring) | — | ${m300} B | ${memory.cockatiel} B | ${memory.opossum} B | ${(m300 / memory.cockatiel).toFixed(2)}× |`)
process.exit(0)
