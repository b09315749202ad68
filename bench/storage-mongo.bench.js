// Round-trip latency of MongoStorage's operations against the server named by MONGO_URL:
// recordFailure ($inc + upsert), record (write + window aggregation), failureCount,
// compareAndSetStatus (a won CAS per call), acquireProbe + release, getStatus. Sequential calls,
// so each number is one operation's latency (median and p99), not throughput.
// Plain ESM over the built dist: `MONGO_URL=mongodb://127.0.0.1:27017 pnpm bench storage-mongo`.
// Without MONGO_URL it says so and exits 0 (no MongoDB server can be installed on these machines).
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { MongoStorage } from '../packages/storage-mongo/dist/index.js'

const url = process.env.MONGO_URL
if (!url) {
  console.log('storage-mongo bench skipped: MONGO_URL is not set (see packages/storage-mongo/README.md for a docker one-liner)')
  process.exit(0)
}

// The driver is the package's dependency, not the workspace root's: resolve it from there.
const require = createRequire(new URL('../packages/storage-mongo/package.json', import.meta.url))
const { MongoClient } = require('mongodb')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2_000)

const client = await new MongoClient(url, { serverSelectionTimeoutMS: 5_000 }).connect()
const db = client.db(`breaker_bench_${randomBytes(4).toString('hex')}`)
try {
  const storage = await MongoStorage.create({ db })
  const results = []
  async function measure(label, op) {
    for (let i = 0; i < 50; i++) await op(i) // warm the pool and the plan cache
    const times = new Float64Array(ROUNDS)
    for (let i = 0; i < ROUNDS; i++) {
      const start = performance.now()
      await op(i + 50)
      times[i] = performance.now() - start
    }
    times.sort()
    const at = (q) => times[Math.min(ROUNDS - 1, Math.floor(q * ROUNDS))]
    results.push({ operation: label, 'median µs': Math.round(at(0.5) * 1000), 'p99 µs': Math.round(at(0.99) * 1000) })
  }

  await measure('recordFailure', () => storage.recordFailure('hot', 1))
  await measure('record(failure) + counts over 60 s', () => storage.record('hot', 'failure', 1, 60_000))
  await measure('failureCount over 60 s', () => storage.failureCount('hot', 60_000))
  await measure('compareAndSetStatus (wins)', (i) =>
    storage.compareAndSetStatus('cas', i, { status: i % 2 ? 'closed' : 'open', openedAt: null, epoch: i + 1, updatedAt: Date.now() }),
  )
  await measure('getStatus', () => storage.getStatus('cas'))
  await measure('acquireProbe + release', async () => {
    const lease = await storage.acquireProbe('probe', 1, 10_000)
    await lease?.release()
  })
  console.table(results)
  await storage.close()
} finally {
  await db.dropDatabase()
  await client.close()
}
