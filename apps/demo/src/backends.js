import { NullStorage } from '@breaker/core'
import { MemoryStorage } from '@breaker/storage-memory'
import { BreakableStorage } from './breakable-storage.js'

/**
 * Builds every storage this worker wires circuits to. In-process storage always works; every
 * other backend is optional and loaded defensively: when its package, its addon or its server
 * is missing, the demo says why and starts without it.
 *
 * Answers `{ circuits: [{ name, storage, label, shared }], chain, primary, shared, wired, skipped, close }`;
 * `shared` (`{ storage, label, scope }`) is the storage every worker shares for the dependency
 * panel: SysV when supported, else Redis, else in-process memory (then per worker only).
 */
export async function buildBackends({ redisUrl, mongoUrl, sysvPath, workers }) {
  const circuits = []
  const wired = []
  const skipped = []
  const closers = []
  const attempt = async (what, fn) => {
    try {
      return await fn()
    } catch (error) {
      skipped.push({ what, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) })
      return undefined
    }
  }

  const redis = redisUrl ? await attempt('redis', () => connectRedis(redisUrl)) : undefined
  if (redis) closers.push(() => redis.quit().catch(() => redis.disconnect()))

  // The fallback chain: a breakable primary (Redis when present, else in-process memory), then
  // in-process counters, then NullStorage, so a broken primary never stops the circuit.
  const chainParts = await attempt('fallback chain', async () => {
    const { FallbackChainStorage } = await import('@breaker/storage-fallback')
    let primary
    let second
    if (redis) {
      const { RedisStorage } = await import('@breaker/storage-redis')
      const store = new RedisStorage({ client: redis, prefix: 'breaker-demo', timeout: 500 })
      closers.push(() => store.close?.())
      primary = { storage: new BreakableStorage(store), timeout: 60 }
      second = { storage: new MemoryStorage(), timeout: 20 }
    } else {
      const { BucketMemoryStorage } = await import('@breaker/storage-bucket')
      primary = { storage: new BreakableStorage(new MemoryStorage()), timeout: 25 }
      second = { storage: new BucketMemoryStorage(), timeout: 20 }
    }
    const chain = new FallbackChainStorage([primary, second, { storage: new NullStorage(), timeout: 10 }], {
      unhealthyAfter: 3,
      // Short, so the dashboard shows the primary coming back and the write-back within seconds.
      unhealthyFor: 4_000,
    })
    return { chain, primary: primary.storage }
  })
  let primary
  let chain
  if (chainParts) {
    ;({ chain, primary } = chainParts)
    const names = chain.health().map((b) => b.backend)
    circuits.push({ name: 'checkout', storage: chain, label: `chain ${names.join(' → ')}`, shared: redis ? 'cluster' : 'process' })
    wired.push(`checkout   → fallback chain ${names.join(' → ')} (primary breakable from the dashboard)`)
  } else {
    // The chain package is unusable: keep the "break the primary" control meaningful anyway.
    primary = new BreakableStorage(new MemoryStorage())
    circuits.push({ name: 'checkout', storage: primary, label: 'memory (breakable)', shared: 'process' })
    wired.push('checkout   → memory (breakable; fallback chain unavailable)')
  }

  circuits.push({ name: 'search', storage: new MemoryStorage(), label: 'memory', shared: 'process' })
  wired.push('search     → MemoryStorage (in-process)')

  let sysv
  if (sysvPath) {
    sysv = await attempt('sysv', async () => {
      const { SysVStorage, isSupported } = await import('@breaker/storage-sysv')
      if (!isSupported()) throw new Error('SysV shared memory is not supported on this machine')
      return new SysVStorage({ path: sysvPath, slots: 64, bucketCount: 120 })
    })
    if (sysv) {
      closers.push(() => sysv.close())
      circuits.push({ name: 'inventory', storage: sysv, label: 'sysv', shared: 'host' })
      wired.push(`inventory  → SysVStorage (shared memory${workers > 1 ? `, shared by ${workers} workers` : ''})`)
    }
  }

  let shared = sysv ? { storage: sysv, label: 'sysv', scope: 'host' } : undefined

  if (redis) {
    if (!shared) {
      const store = await attempt('redis storage (dependency panel)', async () => {
        const { RedisStorage } = await import('@breaker/storage-redis')
        // A prefix of its own: the panel's payments is not the matrix's payments.
        return new RedisStorage({ client: redis, prefix: 'breaker-demo-deps', timeout: 500 })
      })
      if (store) {
        closers.push(() => store.close?.())
        shared = { storage: store, label: 'redis', scope: 'cluster' }
      }
    }
    const store = await attempt('redis storage', async () => {
      const { RedisStorage } = await import('@breaker/storage-redis')
      return new RedisStorage({ client: redis, prefix: 'breaker-demo', timeout: 500 })
    })
    if (store) {
      closers.push(() => store.close?.())
      circuits.push({ name: 'payments', storage: store, label: 'redis', shared: 'cluster' })
      wired.push(`payments   → RedisStorage (${redactUrl(redisUrl)})`)
    }
    const keyv = await attempt('keyv storage', () => keyvOnRedis(redisUrl))
    if (keyv) {
      closers.push(keyv.close)
      circuits.push({ name: 'profiles', storage: keyv.storage, label: 'keyv', shared: 'cluster' })
      wired.push(`profiles   → KeyvStorage on @keyv/redis (${redactUrl(redisUrl)})`)
    }
  }

  if (mongoUrl) {
    const mongo = await attempt('mongo', () => mongoStorage(mongoUrl))
    if (mongo) {
      closers.push(mongo.close)
      circuits.push({ name: 'ledger', storage: mongo.storage, label: 'mongo', shared: 'cluster' })
      wired.push(`ledger     → MongoStorage (${redactUrl(mongoUrl)})`)
    }
  }

  shared ??= { storage: new MemoryStorage(), label: 'memory', scope: 'process' }
  wired.push(`deps       → payments, checkout (dependsOn payments) on ${shared.label}${shared.scope === 'process' ? ' (per worker: no shared storage)' : ', shared by every worker'}`)

  return {
    circuits,
    chain,
    primary,
    shared,
    wired,
    skipped,
    async close() {
      for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => {})
    },
  }
}

/** Connects ioredis and checks the server answers, within 2 s, or throws. */
async function connectRedis(url) {
  const { Redis } = await import('ioredis')
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1 })
  // A demo that cannot reach Redis should say so, not print reconnect errors forever.
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
  } catch (error) {
    client.disconnect()
    throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${error.message}`)
  }
  return client
}

async function keyvOnRedis(url) {
  const [{ default: Keyv }, { default: KeyvRedis }, { KeyvStorage }] = await Promise.all([
    import('keyv'),
    import('@keyv/redis'),
    import('@breaker/storage-keyv'),
  ])
  const store = new KeyvRedis(
    { url, socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(1_000, 50 * retries) } },
    { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 2_000 },
  )
  const keyv = new Keyv({ store, namespace: 'breaker-demo', useKeyPrefix: false })
  keyv.on('error', () => {})
  const storage = new KeyvStorage({ keyv, prefix: 'breaker-demo-keyv', timeout: 1_000 })
  return { storage, close: () => keyv.disconnect() }
}

async function mongoStorage(url) {
  const [{ MongoClient }, { MongoStorage }] = await Promise.all([import('mongodb'), import('@breaker/storage-mongo')])
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3_000 })
  try {
    await client.connect()
    const storage = await MongoStorage.create({ db: client.db(), collectionPrefix: 'breaker_demo', changeStreams: 'detect' })
    return {
      storage,
      close: async () => {
        await storage.close()
        await client.close()
      },
    }
  } catch (error) {
    await client.close().catch(() => {})
    throw new Error(`cannot use MongoDB at ${redactUrl(url)}: ${error.message}`)
  }
}

/** A connection URL without its password, for logs and the dashboard. */
export function redactUrl(url) {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable url)'
  }
}
