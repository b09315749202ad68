// Core's per-call cost on BucketMemoryStorage against cockatiel and opossum configured alike
// (10 s window, 50 % failure rate, 20 minimum calls, no timeouts) and a bare `await fn()`;
// plus bytes per circuit. Run with `pnpm bench core` (node --expose-gc).
import { do_not_optimize } from 'mitata'
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



// mitata's averages swing by ±30 % between runs on these shared VMs, so the table is built
// from interleaved rounds instead: every implementation timed in turn, nine rounds of 100 000
// calls each, and the median round per implementation reported.
async function perCall(fn, calls) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) await fn()
  return Number(process.hrtime.bigint() - start) / calls
}
async function interleaved(cases, rounds = 9, calls = 100_000) {
  return interleavedWith(() => {}, cases, rounds, calls)
}
async function interleavedWith(beforeRound, cases, rounds = 9, calls = 100_000) {
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    beforeRound()
    for (const [name, fn] of Object.entries(cases)) times[name].push(await perCall(fn, calls))
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]))
}
const closedRounds = await interleaved({
  bare: () => ok(),
  ours: () => closed.ours.call(ok),
  cockatiel: () => closed.cockatiel.execute(ok),
  opossum: () => closed.opossum.fire(),
})
// The floor of any promise-returning rejection: a rejected promise made from an error made once.
const openRounds = await interleaved({
  bare: () => Promise.reject(boom).catch(swallow),
  ours: () => open.ours.call(ok).catch(swallow),
  cockatiel: () => open.cockatiel.execute(ok).catch(swallow),
  opossum: () => open.opossum.fire().catch(swallow),
})
const mixedRounds = await interleaved({
  bare: () => mix().catch(swallow),
  ours: () => mixed.ours.call(mix).catch(swallow),
  cockatiel: () => mixed.cockatiel.execute(mix).catch(swallow),
})
// opossum's 10 % path costs ~0.5 ms a call and leaves work behind that would slow whatever
// runs after it in a round: it is timed on its own, in fewer calls.
mixedRounds.opossum = (await interleaved({ opossum: () => mixed.opossum.fire().catch(swallow) }, 3, 5_000)).opossum

// 10 000 circuits called round-robin on one storage: what a service with many dependencies pays.
const MANY = 10_000
const manyStorage = new BucketMemoryStorage({ bucketCount: WINDOW / 1000 })
const many = Array.from({ length: MANY }, (_, i) => ours(`many-${i}`, manyStorage))
const manyCockatiel = Array.from({ length: MANY }, () => cockatiel())
let next = 0
const manyRounds = await interleaved({
  bare: () => ok(),
  ours: () => many[next++ % MANY].call(ok),
  cockatiel: () => manyCockatiel[next++ % MANY].execute(ok),
})

// Each round builds fresh circuits first (a service creating circuits at run time), so calls
// run on objects the JIT has not seen warm.
let round = 0
let fresh = []
const freshStorage = new BucketMemoryStorage({ bucketCount: WINDOW / 1000 })
const freshRounds = await interleavedWith(
  () => {
    round++
    // The last round's circuits are disposed, as a service done with them would.
    for (const circuit of fresh) void circuit.dispose()
    fresh = Array.from({ length: 100 }, (_, i) => ours(`fresh-${round}-${i}`, freshStorage))
  },
  { bare: () => ok(), ours: () => fresh[next++ % 100].call(ok) },
)

// A second storage class in the process makes the storage call sites polymorphic; measured
// last, since that cannot be undone. Same closed call, before and after MemoryStorage circuits ran.
const { MemoryStorage } = await import('../packages/storage-memory/dist/index.js')
const monomorphic = (await interleaved({ bare: () => ok(), ours: () => closed.ours.call(ok) })).ours
const other = ours('other-class', new MemoryStorage())
for (let i = 0; i < 200_000; i++) await other.call(ok)
const polymorphic = (await interleaved({ bare: () => ok(), ours: () => closed.ours.call(ok) })).ours

const f = (x) => (x === undefined ? '—' : `${x.toFixed(0)} ns`)
const ratio = (a, b) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`)
const row = (label, r, target) =>
  `| ${label} | ${f(r.bare)} | ${f(r.ours)} | ${ratio(r.ours, r.bare)} | ${target} | ${f(r.cockatiel)} | ${f(r.opossum)} | ${ratio(r.ours, r.cockatiel)} |`
console.log('\nMedian of interleaved rounds, ns per call:')
console.log('\n| path | baseline | @breaker/core | core / baseline | target | cockatiel 3.2.1 | opossum 9.0.0 | core / cockatiel |')
console.log('|---|---|---|---|---|---|---|---|')
console.log(row('closed (baseline: bare `await fn()`)', closedRounds, '≤ 2.0×, ≤ 0.5× cockatiel'))
console.log(row('open rejection (baseline: `Promise.reject` of a made error)', openRounds, '≤ 1.0×'))
console.log(row('10 % failures (baseline: the bare mix)', mixedRounds, '≤ 1.5×'))
console.log(row('10 000 circuits round-robin', manyRounds, '≤ 5×'))
console.log(row('fresh circuits each round', freshRounds, '≤ 2.0×'))
console.log(`| closed, after a second storage class ran | — | ${f(polymorphic)} | ${ratio(polymorphic, monomorphic)} of one class | ≤ 1.10× | — | — | — |`)
const m = memory['@breaker/core (bucket)']
const m300 = memory['@breaker/core (bucket, default 300 s ring)']
console.log(`| bytes per circuit (ring sized to the 10 s window) | — | ${m} B | — | — | ${memory.cockatiel} B | ${memory.opossum} B | ${ratio(m, memory.cockatiel)} |`)
console.log(`| bytes per circuit (default 300 s ring) | — | ${m300} B | — | — | ${memory.cockatiel} B | ${memory.opossum} B | ${ratio(m300, memory.cockatiel)} |`)
process.exit(0)
