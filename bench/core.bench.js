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
await open.ours.call(ok).catch(() => {}) // an open rejection, once, before timing
await open.cockatiel.execute(() => Promise.reject(boom)).catch(() => {})
open.opossum.open()

const swallow = () => {}

// Bytes per circuit: 5 000 circuits that each made one call, measured after a full GC. The
// bucket rings live in ArrayBuffers, which heapUsed does not count: arrayBuffers is added.
const used = () => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}
// Measured first, before any benchmark leaves garbage (ArrayBuffers are freed lazily after a GC).
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}
async function bytesPer(make) {
  const count = 5000
  await settle()
  const before = used()
  const kept = []
  for (let i = 0; i < count; i++) kept.push(await make(i))
  await settle()
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

await run({ format: 'mitata', colors: false })

// mitata's averages swing by ±30 % between runs on these shared VMs, so the table is built
// from interleaved rounds instead: every implementation timed in turn, nine rounds of 100 000
// calls each, and the median round per implementation reported.
async function perCall(fn, calls) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) await fn()
  return Number(process.hrtime.bigint() - start) / calls
}
async function interleaved(cases, rounds = 9, calls = 100_000) {
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) for (const [name, fn] of Object.entries(cases)) times[name].push(await perCall(fn, calls))
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]))
}
const closedRounds = await interleaved({
  bare: () => ok(),
  ours: () => closed.ours.call(ok),
  cockatiel: () => closed.cockatiel.execute(ok),
  opossum: () => closed.opossum.fire(),
})
const openRounds = await interleaved({
  ours: () => open.ours.call(ok).catch(swallow),
  cockatiel: () => open.cockatiel.execute(ok).catch(swallow),
  opossum: () => open.opossum.fire().catch(swallow),
})
const mixedRounds = await interleaved({
  bare: () => mix().catch(swallow),
  ours: () => mixed.ours.call(mix).catch(swallow),
  cockatiel: () => mixed.cockatiel.execute(mix).catch(swallow),
  opossum: () => mixed.opossum.fire().catch(swallow),
}, 5, 20_000) // opossum's 10 % path costs ~0.3 ms a call

const f = (x) => (x === undefined ? '—' : `${x.toFixed(0)} ns`)
const row = (label, r) => `| ${label} | ${f(r.bare)} | ${f(r.ours)} | ${f(r.cockatiel)} | ${f(r.opossum)} | ${(r.ours / r.cockatiel).toFixed(2)}× |`
console.log('\nMedian of interleaved rounds, ns per call:')
console.log('\n| path | bare `await fn()` | @breaker/core | cockatiel 3.2.1 | opossum 9.0.0 | core / cockatiel |')
console.log('|---|---|---|---|---|---|')
console.log(row('closed', closedRounds))
console.log(row('open rejection', openRounds))
console.log(row('10 % failures', mixedRounds))
const m = memory['@breaker/core (bucket)']
const m300 = memory['@breaker/core (bucket, default 300 s ring)']
console.log(`| bytes per circuit (ring sized to the 10 s window) | — | ${m} B | ${memory.cockatiel} B | ${memory.opossum} B | ${(m / memory.cockatiel).toFixed(2)}× |`)
console.log(`| bytes per circuit (default 300 s ring) | — | ${m300} B | ${memory.cockatiel} B | ${memory.opossum} B | ${(m300 / memory.cockatiel).toFixed(2)}× |`)
process.exit(0)
