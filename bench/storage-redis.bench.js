// RedisStorage's cost: Redis round trips per protected call and calls per second per process,
// for a Circuit on RedisStorage (uncached; uncached with mirrorStatus; stateCacheTtl 1 000 ms +
// batching), against a bare EVALSHA of the same record script and a bare GET. Round trips are
// counted on the client (every command a connection sends, pub/sub connections included), and
// the server's INFO commandstats gives the commands it ran (those inside scripts included), on a
// private redis-server this bench starts on a free loopback port. Imports the built packages:
// `pnpm --filter @breaker/storage-redis... build`, then `node bench/storage-redis.bench.js`.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(new URL('../packages/storage-redis/package.json', import.meta.url))
const load = (name) => import(pathToFileURL(require.resolve(name)).href)
const { Redis } = await load('ioredis')
const { Circuit } = await load('@breaker/core')
const { RedisStorage } = await import('../packages/storage-redis/dist/index.js')
const { startRedisServer } = await import('../packages/storage-redis/test/helpers/redis-server.mjs')

const SEQUENTIAL_CALLS = 3_000
const THROUGHPUT_MS = 1_500
const CONCURRENCY = 64
const WINDOW = 60_000

const server = await startRedisServer()
const admin = new Redis(server.port, server.host, { connectTimeout: 1_000, maxRetriesPerRequest: 1 })

// Every command any bench connection sends: one command is one round trip (no pipelining here).
let sent = 0
function counted(connection) {
  const send = connection.sendCommand.bind(connection)
  connection.sendCommand = (command, stream) => {
    sent++
    return send(command, stream)
  }
  const duplicate = connection.duplicate.bind(connection)
  connection.duplicate = (...args) => counted(duplicate(...args))
  return connection
}

/** Commands the server has run so far, not counting the INFO that asks. */
async function commandsRun() {
  const info = await admin.info('commandstats')
  let total = 0
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (match[1] !== 'info') total += Number(match[2])
  return total
}

/** Round trips (client-counted) and server commands per call over `calls` sequential calls of `fn`. */
async function tripsPerCall(fn, calls = SEQUENTIAL_CALLS) {
  for (let i = 0; i < 50; i++) await fn(i) // warm-up: scripts loaded, caches filled, subscriptions made
  await new Promise((resolve) => setTimeout(resolve, 120))
  await admin.config('RESETSTAT')
  const before = sent
  for (let i = 0; i < calls; i++) await fn(i)
  await new Promise((resolve) => setTimeout(resolve, 120)) // let a pending batch flush land
  return { trips: (sent - before) / calls, commands: ((await commandsRun()) - 1) / calls } // - the RESETSTAT
}

/** Calls per second with `CONCURRENCY` callers for `THROUGHPUT_MS`. */
async function callsPerSecond(fn) {
  let done = 0
  const until = performance.now() + THROUGHPUT_MS
  const worker = async () => {
    while (performance.now() < until) {
      await fn(done)
      done++
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return done / ((performance.now() - start) / 1000)
}

const clients = []
function client() {
  const c = counted(new Redis(server.port, server.host, { connectTimeout: 1_000, maxRetriesPerRequest: 1 }))
  clients.push(c)
  return c
}

const storages = []
function circuitOn(name, storageOptions, circuitOptions) {
  const storage = new RedisStorage({ client: client(), prefix: 'bench', ...storageOptions })
  storages.push(storage)
  return new Circuit(name, { storage, registry: false, threshold: { failures: 1_000_000, within: WINDOW }, ...circuitOptions })
}

const scenarios = [
  ['Circuit, uncached (stateCacheTtl 0), mirrorStatus: false', () => circuitOn('uncached', { mirrorStatus: false }, {})],
  ['Circuit, uncached, every call fails, mirrorStatus: false', () => circuitOn('failing', { mirrorStatus: false }, {}), true],
  ['Circuit, uncached (default: status mirror on)', () => circuitOn('mirrored', {}, {})],
  ['Circuit, stateCacheTtl 1000 + batch 50 ms', () => circuitOn('cached', {}, { stateCacheTtl: 1_000, batch: { interval: 50, maxSize: 100 } })],
]

const rows = []
const boom = new Error('down')
for (const [label, make, failing] of scenarios) {
  const circuit = make()
  const call = failing ? () => circuit.call(() => Promise.reject(boom)).catch(() => {}) : () => circuit.call(() => 'ok')
  rows.push({ scenario: label, ...(await tripsPerCall(call)), perSecond: await callsPerSecond(call) })
  await circuit.dispose?.()
}

// Baselines: the record script alone (one EVALSHA per call) and a bare GET.
const bare = new RedisStorage({ client: client(), prefix: 'bench' })
storages.push(bare)
const evalsha = () => bare.record('bare', 'success', 0, WINDOW)
rows.push({ scenario: 'bare EVALSHA (RedisStorage.record)', ...(await tripsPerCall(evalsha)), perSecond: await callsPerSecond(evalsha) })
const getter = client()
await getter.set('bench:get', '1')
const get = () => getter.get('bench:get')
rows.push({ scenario: 'bare GET', ...(await tripsPerCall(get)), perSecond: await callsPerSecond(get) })

console.log(`redis-server ${server.port}, ${SEQUENTIAL_CALLS} sequential calls for trips, ${CONCURRENCY} callers for ${THROUGHPUT_MS} ms for calls/s`)
console.log('| scenario | round trips per call | server commands per call (incl. inside Lua) | calls/s (one process) |')
console.log('|---|---:|---:|---:|')
for (const row of rows) {
  console.log(`| ${row.scenario} | ${row.trips.toFixed(3)} | ${row.commands.toFixed(3)} | ${Math.round(row.perSecond).toLocaleString('en-US')} |`)
}

for (const s of storages) await s.close()
for (const c of clients) c.disconnect()
admin.disconnect()
await server.stop()
