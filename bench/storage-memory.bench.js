// Per-call cost of the two in-process storages — MemoryStorage (exact timestamps) and
// BucketMemoryStorage (per-second ring) — on the paths a circuit takes: recordSuccess, record
// (write + both counts), a count alone, and the same spread over 1 000 circuits (map lookups),
// a coalesced batch, a dynamic circuit's whole life (retain, record, release), plus bytes held per
// circuit and after 100 000 dynamic circuits. Plain ESM over the built dist: `pnpm bench storage-memory`.
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { MemoryStorage } from '../packages/storage-memory/dist/index.js'
import { BucketMemoryStorage } from '../packages/storage-bucket/dist/index.js'

const WINDOW = 60_000
// A clock that moves 1 ms per reading: the window fills to a steady state (60 000 outcomes for
// MemoryStorage, every bucket live for BucketMemoryStorage) instead of growing with wall time.
// Kept in a Float64Array so reading it allocates no heap number (~4 ns, vs ~25 ns for Date.now()).
const time = new Float64Array([Date.UTC(2026, 0, 1)])
const clock = () => ++time[0]

const stores = {
  memory: new MemoryStorage({ clock, maxWindowMs: WINDOW, maxEvents: 1000 }),
  bucket: new BucketMemoryStorage({ clock }),
}
const names = Array.from({ length: 1000 }, (_, i) => `circuit-${i}`)

// Warm every circuit to a full window so counts work on realistic data.
for (const storage of Object.values(stores)) {
  for (let i = 0; i < WINDOW; i++) storage.recordSuccess('hot', 1)
  for (const name of names) storage.recordFailure(name, 1)
}
const steady = stores.memory.footprint('hot')

for (const [label, storage] of Object.entries(stores)) {
  group(label, () => {
    summary(() => {
      bench(`${label}: recordSuccess`, () => storage.recordSuccess('hot', 3))
      bench(`${label}: record(failure) + counts over 60 s`, () => do_not_optimize(storage.record('hot', 'failure', 3, WINDOW)))
      bench(`${label}: failureCount over 60 s`, () => do_not_optimize(storage.failureCount('hot', WINDOW)))
      let i = 0
      bench(`${label}: record over 1 000 circuits`, () => {
        i = (i + 1) % 1000
        do_not_optimize(storage.record(names[i], 'failure', 3, WINDOW))
      })
      bench(`${label}: recordBatch of 50 (a coalesced write)`, () => do_not_optimize(storage.recordBatch('batched', { failures: 20, successes: 30 }, WINDOW)))
      // A store of its own whose clock moves 100 ms per new name (ten new circuits a second), so
      // released circuits age out of the window and are dropped as they would be in a service.
      let tenant = 0
      let tenantNow = Date.UTC(2026, 0, 1)
      const tenantClock = () => tenantNow
      const tenants = label === 'memory' ? new MemoryStorage({ clock: tenantClock }) : new BucketMemoryStorage({ clock: tenantClock })
      bench(`${label}: a dynamic circuit's life (retain, record, release)`, () => {
        const name = `tenant-${tenant++}`
        tenantNow += 100
        const release = tenants.retain(name)
        do_not_optimize(tenants.record(name, 'failure', 3, WINDOW))
        release()
      })
    })
  })
}

await run()

// Bytes per circuit: heap + array buffers before and after 10 000 fresh circuits with one outcome each.
function measure(make) {
  globalThis.gc?.()
  const before = process.memoryUsage()
  const storage = make()
  for (let i = 0; i < 10_000; i++) storage.recordFailure(`m-${i}`, 1)
  globalThis.gc?.()
  const after = process.memoryUsage()
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)
  do_not_optimize(storage)
  return Math.round(bytes / 10_000)
}
const bucketBytes = measure(() => new BucketMemoryStorage({ clock }))
const memoryBytes = measure(() => new MemoryStorage({ clock }))
console.log(`\nbytes per circuit, one outcome each${globalThis.gc ? '' : ' (run with --expose-gc for stable numbers)'}:`)
console.log(`  bucket (300 buckets): ${bucketBytes} B measured, ${stores.bucket.bytesPerCircuit} B of counters, fixed`)
console.log(`  memory (maxEvents 1000): ${memoryBytes} B measured when nearly empty; grows with outcomes in the window`)
console.log(`  memory at 1 outcome/ms over a 60 s window: ${steady.outcomes} timestamps, ${steady.bytes} B`)

// Heap held after 100 000 dynamic circuit names, each retained, used once and released at ten new
// names a second of injected time: only those still inside the 60 s window are kept.
function churn(make) {
  globalThis.gc?.()
  globalThis.gc?.()
  const before = process.memoryUsage()
  let now = Date.UTC(2026, 0, 1)
  const storage = make(() => now)
  for (let i = 0; i < 100_000; i++) {
    const release = storage.retain(`churn-${i}`)
    storage.record(`churn-${i}`, 'failure', 0, WINDOW)
    release()
    now += 100
  }
  globalThis.gc?.()
  globalThis.gc?.()
  const after = process.memoryUsage()
  const mib = (after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)) / 2 ** 20
  return `${mib.toFixed(1)} MiB, ${storage.size} circuits held`
}
console.log('\nafter 100 000 dynamic circuits (retain, record once, release; 10 a second):')
console.log(`  bucket: ${churn((c) => new BucketMemoryStorage({ clock: c }))}`)
console.log(`  memory: ${churn((c) => new MemoryStorage({ clock: c }))}`)
