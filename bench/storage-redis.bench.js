// RedisStorage's cost: Redis round trips per protected call and calls per second per process, for
// Circuits on RedisStorage (uncached; uncached and failing; 200 circuits with stateCacheTtl 1 000 ms
// + batching), against bare EVALSHAs (a trivial script, and the counting script for one outcome)
// and a bare GET sent straight through ioredis. Round trips are counted on the client (every
// command any connection sends, pub/sub included); the server's INFO commandstats gives the
// commands it ran (those inside scripts included), on a private redis-server this bench starts on
// a free loopback port. Throughput is the median of interleaved rounds, since this machine is
// shared. Imports the built packages: `pnpm turbo run build`, then `pnpm bench storage-redis`.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(new URL('../packages/storage-redis/package.json', import.meta.url))
const load = (name) => import(pathToFileURL(require.resolve(name)).href)
const { Redis } = await load('ioredis')
const { Circuit } = await load('@breaker/core')
const { RedisStorage } = await import('../packages/storage-redis/dist/index.js')
const { BATCH, luaScript } = await import('../packages/storage-redis/dist/scripts.js')
const { startRedisServer } = await import('../packages/storage-redis/test/helpers/redis-server.mjs')

const SEQUENTIAL_CALLS = 3_000
const THROUGHPUT_MS = 1_000
const ROUNDS = 5
const CALLERS = [16, 128]
const WINDOW = 60_000
const CIRCUITS = 200

const server = await startRedisServer()
const admin = new Redis(server.port, server.host, { connectTimeout: 1_000, maxRetriesPerRequest: 1 })

// Every command any bench connection sends: one command is one round trip's worth of work.
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

const settle = () => new Promise((resolve) => setTimeout(resolve, 120))

/**
 * Round trips (client-counted) and server commands per call of `fn` called one at a time: for
 * `SEQUENTIAL_CALLS` calls, or for `forMs` ms when given (so caches expire and re-read in it).
 */
async function tripsPerCall(fn, forMs) {
  for (let i = 0; i < 2 * CIRCUITS; i++) await fn(i) // warm-up: scripts loaded, subscriptions made, caches filled
  await settle()
  await admin.config('RESETSTAT')
  const before = sent
  let calls = 0
  const until = performance.now() + (forMs ?? 0)
  while (forMs === undefined ? calls < SEQUENTIAL_CALLS : performance.now() < until) await fn(calls++)
  await settle() // let writes and a pending batch flush land
  const tripsPerSecond = (sent - before) / ((forMs ?? 1) / 1000)
  return { trips: (sent - before) / calls, commands: ((await commandsRun()) - 1) / calls, calls, tripsPerSecond } // - the RESETSTAT
}

/** Calls per second with `callers` concurrent callers for `THROUGHPUT_MS`; also the round trips per call meanwhile. */
async function callsPerSecond(fn, callers) {
  let done = 0
  const before = sent
  const until = performance.now() + THROUGHPUT_MS
  const worker = async () => {
    while (performance.now() < until) {
      await fn(done)
      done++
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: callers }, worker))
  const perSecond = done / ((performance.now() - start) / 1000)
  await settle()
  return { perSecond, trips: (sent - before) / done }
}

const clients = []
function client() {
  const c = counted(new Redis(server.port, server.host, { connectTimeout: 1_000, maxRetriesPerRequest: 1 }))
  clients.push(c)
  return c
}

const storages = []
function storage() {
  const s = new RedisStorage({ client: client(), prefix: 'bench' })
  storages.push(s)
  return s
}

const circuits = []
function circuitOn(name, options = {}) {
  const circuit = new Circuit(name, { storage: storage(), registry: false, threshold: { failures: 1_000_000, within: WINDOW }, ...options })
  circuits.push(circuit)
  return circuit
}

const boom = new Error('down')
const uncached = circuitOn('uncached')
const failing = circuitOn('failing')
const shared = storage()
const many = Array.from({ length: CIRCUITS }, (_, i) =>
  circuitOn(`many-${i}`, { storage: shared, stateCacheTtl: 1_000, batch: { interval: 50, maxSize: 100 } }),
)
const raw = client()
const TRIVIAL = luaScript('trivial', 'return 1', false)
await raw.script('LOAD', TRIVIAL.source)
await raw.script('LOAD', BATCH.source)
await raw.set('bench:get', '1')

const scenarios = [
  ['Circuit, uncached (stateCacheTtl 0)', () => uncached.call(() => 'ok')],
  ['Circuit, uncached, every call fails', () => failing.call(() => Promise.reject(boom)).catch(() => {})],
  [`${CIRCUITS} circuits, stateCacheTtl 1 000 + batch 50 ms`, (i) => many[i % CIRCUITS].call(() => 'ok'), 2_500],
  ['bare EVALSHA, trivial script (ioredis)', () => raw.evalsha(TRIVIAL.sha, 0)],
  ['bare EVALSHA, counting script, one outcome (ioredis)', () => raw.evalsha(BATCH.sha, 1, 'bench:{bare}:counts', 1_000, 'c', 0, 1, WINDOW, 1, WINDOW)],
  ['bare GET (ioredis)', () => raw.get('bench:get')],
]

const rows = scenarios.map(([label]) => ({ label, trips: 0, commands: 0, busyTrips: {}, rates: Object.fromEntries(CALLERS.map((c) => [c, []])) }))
for (const [i, [, fn, forMs]] of scenarios.entries()) Object.assign(rows[i], await tripsPerCall(fn, forMs))
for (let round = 0; round < ROUNDS; round++) {
  for (const callers of CALLERS) {
    for (const [i, [, fn]] of scenarios.entries()) {
      const { perSecond, trips } = await callsPerSecond(fn, callers)
      rows[i].rates[callers].push(perSecond)
      rows[i].busyTrips[callers] = trips
    }
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const trivial = rows[3]
console.log(`(${CIRCUITS} circuits: ${rows[2].calls} sequential calls in 2.5 s for trips, ${Math.round(rows[2].tripsPerSecond)} round trips/s whatever the call rate)`)
console.log(`redis-server ${server.port}; ${SEQUENTIAL_CALLS} sequential calls for trips; ${CALLERS.join(' and ')} callers × ${THROUGHPUT_MS} ms, median of ${ROUNDS} interleaved rounds for calls/s`)
console.log(`| scenario | round trips per call (sequential) | round trips per call (${CALLERS[0]} callers) | server commands per call (incl. inside Lua) | ${CALLERS.map((c) => `calls/s, ${c} callers (× trivial EVALSHA)`).join(' | ')} |`)
console.log(`|---|---:|---:|---:|${CALLERS.map(() => '---:').join('|')}|`)
for (const row of rows) {
  const rates = CALLERS.map((c) => `${fmt(median(row.rates[c]))} (${(median(row.rates[c]) / median(trivial.rates[c])).toFixed(2)}×)`)
  console.log(`| ${row.label} | ${row.trips.toFixed(4)} | ${row.busyTrips[CALLERS[0]].toFixed(4)} | ${row.commands.toFixed(3)} | ${rates.join(' | ')} |`)
}

for (const c of circuits) await c.dispose?.()
for (const s of storages) await s.close()
for (const c of clients) c.disconnect()
admin.disconnect()
await server.stop()
