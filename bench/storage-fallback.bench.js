// FallbackChainStorage's cost: what the chain adds over its primary alone while the primary is
// healthy (synchronous and promise answers), and what one operation costs while the primary
// hangs — bounded by its deadline until it is marked unhealthy, then about nothing once it is
// skipped. Imports the built packages: `pnpm --filter @breaker/storage-fallback... build`, then
// `node bench/storage-fallback.bench.js` (or `pnpm bench storage-fallback`).
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

// Resolve through the package that declares these dependencies, so the bench runs whether or
// not the root links them.
const require = createRequire(new URL('../packages/storage-fallback/package.json', import.meta.url))
const load = (name) => import(pathToFileURL(require.resolve(name)).href)
const { bench, do_not_optimize, group, run, summary } = await load('mitata')
const { NullStorage } = await load('@breaker/core')
const { MemoryStorage } = await load('@breaker/storage-memory')
const { FallbackChainStorage } = await load('@breaker/storage-fallback')

const WINDOW = 60_000
const RECORD = { status: 'closed', openedAt: null, epoch: 1, updatedAt: Date.now() }

/** Every method answers a promise that never settles. */
function hanging(name) {
  const never = () => new Promise(() => {})
  const methods = ['getStatus', 'setStatus', 'compareAndSetStatus', 'recordSuccess', 'recordFailure', 'successCount', 'failureCount', 'record', 'recordBatch', 'acquireProbe', 'eventLog', 'clear', 'clearAll']
  return Object.fromEntries([['name', name], ['capabilities', new MemoryStorage().capabilities], ...methods.map((m) => [m, never])])
}

/** The same storage answering with an already-resolved promise: the cheapest async backend. */
function promised(inner) {
  return {
    name: 'memory-async',
    capabilities: inner.capabilities,
    getStatus: (c) => Promise.resolve(inner.getStatus(c)),
    setStatus: (c, r) => Promise.resolve(inner.setStatus(c, r)),
    compareAndSetStatus: (c, e, r) => Promise.resolve(inner.compareAndSetStatus(c, e, r)),
    recordSuccess: (c, d) => Promise.resolve(inner.recordSuccess(c, d)),
    recordFailure: (c, d) => Promise.resolve(inner.recordFailure(c, d)),
    successCount: (c, w) => Promise.resolve(inner.successCount(c, w)),
    failureCount: (c, w) => Promise.resolve(inner.failureCount(c, w)),
    record: (c, o, d, w) => Promise.resolve(inner.record(c, o, d, w)),
    recordBatch: (c, b, w) => Promise.resolve(inner.recordBatch(c, b, w)),
    clear: (c) => Promise.resolve(inner.clear(c)),
    clearAll: () => Promise.resolve(inner.clearAll()),
  }
}

const chainOf = (primary, timeout = 5, options = {}) =>
  new FallbackChainStorage(
    [
      { storage: primary, timeout },
      { storage: new MemoryStorage(), timeout: 2 },
      { storage: new NullStorage(), timeout: 1 },
    ],
    options,
  )

// Healthy, synchronous primary.
const memory = new MemoryStorage()
const overMemory = chainOf(new MemoryStorage())
for (const s of [memory, overMemory]) s.setStatus('c', RECORD)

// Healthy primary answering with promises: the chain starts (and clears) a deadline timer per operation.
const asyncAlone = promised(new MemoryStorage())
const overAsync = chainOf(promised(new MemoryStorage()), 50)

// Hanging primary: the first `unhealthyAfter` (3) operations wait out the 5 ms deadline each.
// recoverAfter far away: this measures the skip itself, not a probe now and then.
const hangingChain = chainOf(hanging('redis'), 5, { recoverAfter: 3_600_000 })
const waits = []
for (let i = 0; i < 3; i++) {
  const t0 = performance.now()
  await hangingChain.getStatus('c')
  waits.push(performance.now() - t0)
}
const t0 = performance.now()
const skippedAnswer = hangingChain.getStatus('c')
const skippedMs = performance.now() - t0
console.log(
  `primary hanging (deadline 5 ms): operations 1-3 took ${waits.map((w) => w.toFixed(2)).join(', ')} ms; ` +
    `operation 4 answered ${skippedAnswer instanceof Promise ? 'with a promise' : 'synchronously'} in ${(skippedMs * 1000).toFixed(1)} µs (primary skipped)`,
)

group('healthy synchronous primary', () => {
  summary(() => {
    bench('getStatus: MemoryStorage alone', () => do_not_optimize(memory.getStatus('c')))
    bench('getStatus: chain [memory, memory, null]', () => do_not_optimize(overMemory.getStatus('c')))
  })
  summary(() => {
    bench('record: MemoryStorage alone', () => do_not_optimize(memory.record('c', 'success', 1, WINDOW)))
    bench('record: chain [memory, memory, null]', () => do_not_optimize(overMemory.record('c', 'success', 1, WINDOW)))
  })
})

group('healthy primary answering with a promise (deadline timer per operation)', () => {
  summary(() => {
    bench('getStatus: async memory alone', async () => do_not_optimize(await asyncAlone.getStatus('c')))
    bench('getStatus: chain [async memory, memory, null]', async () => do_not_optimize(await overAsync.getStatus('c')))
  })
})

group('primary hanging, after it was marked unhealthy (skipped)', () => {
  summary(() => {
    bench('getStatus: MemoryStorage alone', () => do_not_optimize(memory.getStatus('c')))
    bench('getStatus: chain [hanging, memory, null]', () => do_not_optimize(hangingChain.getStatus('c')))
  })
})

// A listener makes the chain time every operation (performance.now() per backend and per operation).
const observed = chainOf(new MemoryStorage())
observed.setStatus('c', RECORD)
observed.on('chain_operation', () => {})
group('events observed', () => {
  summary(() => {
    bench('getStatus: chain, nobody listening', () => do_not_optimize(overMemory.getStatus('c')))
    bench('getStatus: chain with a chain_operation listener', () => do_not_optimize(observed.getStatus('c')))
  })
})

await run()
