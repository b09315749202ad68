import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import calculateSlot from 'cluster-key-slot'
import { afterAll, describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '@breaker/core'
import type { StorageNotice } from '@breaker/core'
import { RedisStorage, circuitKeys } from '@breaker/storage-redis'
import { Cluster, Redis } from 'ioredis'
import { startFixture } from './helpers/processes.mjs'
import { startRedisCluster } from './helpers/redis-server.mjs'
import type { RedisServer } from './helpers/redis-server.mjs'
import { until } from './helpers/until.js'

// A real Redis Cluster of 3 masters and 3 replicas (node timeout 2 s), started once for this
// file; nodes are killed with SIGKILL. The child processes import the built dist.
const cluster = await startRedisCluster({ masters: 3, replicas: 1 })
afterAll(() => cluster.stop())
const fixture = fileURLToPath(new URL('./fixtures/ha-worker.mjs', import.meta.url))
const alive = new Set<RedisServer>(cluster.nodes)
const topology = () => JSON.stringify({ kind: 'cluster', ports: [...alive].map((n) => n.port) })

function clusterClient(): Cluster {
  const client = new Cluster(
    [...alive].map((n) => ({ host: n.host, port: n.port })),
    { redisOptions: { connectTimeout: 1_000, maxRetriesPerRequest: 1 }, clusterRetryStrategy: () => 100 },
  )
  client.on('error', () => {})
  return client
}

async function kill(port: number): Promise<void> {
  const node = [...alive].find((n) => n.port === port)!
  alive.delete(node)
  await node.kill()
}

/** Port of the master serving `key`'s slot, read from a surviving node's CLUSTER NODES. */
async function masterOf(key: string): Promise<{ port: number; hasReplica: boolean }> {
  const any = [...alive][0]!
  const probe = new Redis(any.port, any.host, { connectTimeout: 1_000, maxRetriesPerRequest: 1 })
  try {
    const nodes = (await probe.call('CLUSTER', 'NODES')) as string
    const slot = calculateSlot(key)
    const lines = nodes.trim().split('\n').map((line) => line.split(' '))
    for (const [id, address, flags, , , , , , ...ranges] of lines) {
      if (!flags!.includes('master') || flags!.includes('fail')) continue
      const serves = ranges.some((range) => {
        const [from, to = from] = range.split('-').map(Number)
        return slot >= from! && slot <= to!
      })
      if (!serves) continue
      // Alive by our own account: a node killed a moment ago is not flagged failed yet.
      const ports = new Set([...alive].map((n) => n.port))
      const hasReplica = lines.some(([, a, , master]) => master === id && ports.has(portOf(a!)))
      return { port: portOf(address!), hasReplica }
    }
    throw new Error(`no master serves slot ${slot}`)
  } finally {
    probe.disconnect()
  }
}

/** True once every slot is served by a master that is alive (a failover has finished). */
async function healthy(): Promise<boolean> {
  const any = [...alive][0]!
  const probe = new Redis(any.port, any.host, { connectTimeout: 1_000, maxRetriesPerRequest: 1 })
  try {
    const ports = new Set([...alive].map((n) => n.port))
    const lines = ((await probe.call('CLUSTER', 'NODES')) as string).trim().split('\n').map((line) => line.split(' '))
    return lines.every(([, address, flags, , , , , , ...ranges]) => ranges.length === 0 || (ports.has(portOf(address!)) && !flags!.includes('fail')))
  } finally {
    probe.disconnect()
  }
}

/** How many connections of the node on `port` subscribe to `channel`. */
async function subscribers(port: number, channel: string): Promise<number> {
  const probe = new Redis(port, '127.0.0.1', { connectTimeout: 1_000, maxRetriesPerRequest: 1 })
  try {
    return Number(((await probe.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1])
  } finally {
    probe.disconnect()
  }
}

const portOf = (address: string) => Number(address.split(':')[1]!.split('@')[0])

describe('RedisStorage through Redis Cluster failures', () => {
  it("detects that the Cluster moved its subscriber when that node dies, so a peer's trip is rejected within stateCacheTtl + 2 s", async () => {
    const prefix = `move${randomUUID().slice(0, 6)}`
    const name = `moved-${randomUUID()}`
    const client = clusterClient()
    const subscriber = clusterClient()
    const storage = new RedisStorage({ client, subscriber, prefix })
    const notices: Array<StorageNotice & { at: number }> = []
    const stop = storage.subscribe((notice) => notices.push({ ...notice, at: Date.now() }))
    const circuit = new Circuit(name, { storage, registry: false, stateCacheTtl: 2_000, threshold: { failures: 3, within: 60_000 } })
    const tripper = startFixture<{ trippedAt: number | null }>(fixture, [topology(), prefix, 'trip', JSON.stringify({ circuit: name })], 60_000)
    try {
      // The node ioredis picked for the subscription (its ClusterSubscriber is not public).
      const instance = () => (subscriber as unknown as { subscriber: { getInstance(): Redis | null } }).subscriber.getInstance()
      await until(async () => instance()?.status === 'ready' && (await subscribers(instance()!.options.port!, `${prefix}:status-changes`)) > 0, 10_000, 'the subscription is live')
      expect(await circuit.call(() => 'ok')).toBe('ok')
      await tripper.ready
      const node = instance()!
      const killedAt = Date.now()
      await kill(node.options.port!)
      tripper.send({ go: true })
      const { trippedAt } = await tripper.result
      expect(trippedAt).not.toBeNull()
      const rejectedAt = await until(
        () => circuit.call(() => 'ok').then(() => false, (error: unknown) => isCircuitOpenError(error)),
        2_000 + 2_000 + 1_000,
        'the peer trip is rejected',
      )
      expect(rejectedAt - trippedAt!).toBeLessThanOrEqual(2_000 + 2_000)
      // The move itself was noticed: the channel went down, then live again on another node.
      const after = notices.filter((n) => n.at >= killedAt && n.resync && n.circuit === undefined)
      expect(after.length).toBeGreaterThanOrEqual(2)
    } finally {
      stop()
      tripper.child.kill()
      await circuit.dispose()
      await storage.close()
      client.disconnect()
      subscriber.disconnect()
    }
  }, 60_000)

  it('keeps 4 processes under load through a master kill: no failed call, no unhandled rejection, no acknowledged increment lost, one open after', async () => {
    // Two masters down at once would leave no majority to fail either over.
    await until(healthy, 30_000, 'the cluster is whole again')
    const prefix = `load${randomUUID().slice(0, 6)}`
    // A work circuit and a counter on a master that has a replica to fail over to.
    let work = ''
    for (let i = 0; ; i++) {
      work = `work-${i}`
      if ((await masterOf(circuitKeys(prefix, work).status)).hasReplica) break
    }
    const settings = { work, counted: work, tripped: `tripped-${randomUUID()}` }
    const workers = Array.from({ length: 4 }, () =>
      startFixture<{ calls: number; failed: number; acked: number; attempted: number; opens: number; state: string; unhandled: string[] }>(
        fixture,
        [topology(), prefix, 'load', JSON.stringify(settings)],
        90_000,
      ),
    )
    const client = clusterClient()
    const storage = new RedisStorage({ client, prefix })
    try {
      await Promise.all(workers.map((w) => w.ready))
      for (const w of workers) w.send({ go: true })
      await sleep(1_500)
      const { port } = await masterOf(circuitKeys(prefix, work).status)
      await kill(port)
      // Failed over: the slot answers writes again (then a little more load on the new master).
      await until(() => storage.recordSuccess('probe', 0).then(() => storage.failureCount(work, 60_000)).then(() => true, () => false), 30_000, 'failover')
      await sleep(1_500)
      const tripAt = Date.now() + 1_000
      for (const w of workers) w.send({ stop: true, tripAt })
      const results = await Promise.all(workers.map((w) => w.result))
      expect(results.map((r) => r.failed)).toEqual([0, 0, 0, 0])
      expect(results.flatMap((r) => r.unhandled)).toEqual([])
      expect(results.every((r) => r.calls > 100)).toBe(true)
      const acked = results.reduce((sum, r) => sum + r.acked, 0)
      const attempted = results.reduce((sum, r) => sum + r.attempted, 0)
      const counted = await storage.failureCount(work, 60_000)
      expect(counted).toBeGreaterThanOrEqual(acked)
      expect(counted).toBeLessThanOrEqual(attempted)
      expect(results.reduce((sum, r) => sum + r.opens, 0)).toBe(1)
      expect(results.map((r) => r.state)).toEqual(['open', 'open', 'open', 'open'])
    } finally {
      for (const w of workers) w.child.kill()
      await storage.close()
      client.disconnect()
    }
  }, 90_000)
})
