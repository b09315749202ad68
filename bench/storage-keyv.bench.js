// KeyvStorage's cost: store round trips per protected call and calls per second per process, for
// a Circuit on KeyvStorage over Redis (@keyv/redis, a private redis-server this bench starts) and
// over PostgreSQL (@keyv/postgres, PG_URL or the local server), uncached and with
// stateCacheTtl 1 000 ms + batching. Round trips are the store adapter calls Keyv makes (each is one
// command or one query). Imports the built packages: `pnpm --filter @breaker/storage-keyv... build`,
// then `node bench/storage-keyv.bench.js`.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(new URL('../packages/storage-keyv/package.json', import.meta.url))
// The Keyv packages resolve to their CommonJS builds through require; that is fine here.
const { Keyv } = require('keyv')
const KeyvRedis = require('@keyv/redis').default
const { KeyvPostgres } = require('@keyv/postgres')
const { Circuit } = await import(pathToFileURL(require.resolve('@breaker/core')).href)
const { KeyvStorage } = await import('../packages/storage-keyv/dist/index.js')
const { startRedisServer } = await import('../packages/storage-redis/test/helpers/redis-server.mjs')

const SEQUENTIAL_CALLS = 1_000
const THROUGHPUT_MS = 1_500
const CONCURRENCY = 64
const PG_URL = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'

let trips = 0
/** Counts every call Keyv makes into its store adapter. */
function counted(store) {
  for (const method of ['get', 'getMany', 'set', 'setMany', 'delete', 'deleteMany', 'has']) {
    const original = store[method]
    if (typeof original !== 'function') continue
    store[method] = function (...args) {
      trips++
      return original.apply(this, args)
    }
  }
  return store
}

async function measure(label, keyv, circuitOptions, failing = false) {
  const storage = new KeyvStorage({ keyv, prefix: `bench-${Date.now()}` })
  const circuit = new Circuit(label, { storage, registry: false, threshold: { failures: 1_000_000, within: 60_000 }, ...circuitOptions })
  const boom = new Error('down')
  const call = failing ? () => circuit.call(() => Promise.reject(boom)).catch(() => {}) : () => circuit.call(() => 'ok')
  for (let i = 0; i < 50; i++) await call()
  await new Promise((resolve) => setTimeout(resolve, 120))
  const before = trips
  for (let i = 0; i < SEQUENTIAL_CALLS; i++) await call()
  await new Promise((resolve) => setTimeout(resolve, 120))
  const perCall = (trips - before) / SEQUENTIAL_CALLS
  let done = 0
  const until = performance.now() + THROUGHPUT_MS
  const start = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await call()
        done++
      }
    }),
  )
  const perSecond = done / ((performance.now() - start) / 1000)
  await circuit.dispose?.()
  return { label, perCall, perSecond }
}

const server = await startRedisServer()
const rows = []
const stores = [
  ['Redis', () => new Keyv({ store: counted(new KeyvRedis(server.url)), namespace: 'bench', useKeyPrefix: false })],
  ['PostgreSQL', () => new Keyv({ store: counted(new KeyvPostgres({ uri: PG_URL, table: 'breaker_keyv_bench', max: 8 })), namespace: 'bench' })],
]
for (const [name, open] of stores) {
  for (const [mode, options, failing] of [
    ['uncached', {}, false],
    ['uncached, every call fails', {}, true],
    ['stateCacheTtl 1000 + batch 50 ms', { stateCacheTtl: 1_000, batch: { interval: 50, maxSize: 100 } }, false],
  ]) {
    const keyv = open()
    try {
      rows.push(await measure(`${name}, ${mode}`, keyv, options, failing))
    } catch (error) {
      rows.push({ label: `${name}, ${mode}`, error: error.message })
    } finally {
      await keyv.disconnect().catch(() => {})
    }
  }
}
console.log(`${SEQUENTIAL_CALLS} sequential calls for round trips, ${CONCURRENCY} callers for ${THROUGHPUT_MS} ms for calls/s`)
console.log('| Circuit on KeyvStorage over | store round trips per call | calls/s (one process) |')
console.log('|---|---:|---:|')
for (const row of rows) {
  if (row.error) console.log(`| ${row.label} | failed: ${row.error} | |`)
  else console.log(`| ${row.label} | ${row.perCall.toFixed(3)} | ${Math.round(row.perSecond).toLocaleString('en-US')} |`)
}
await server.stop()
