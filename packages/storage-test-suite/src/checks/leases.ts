import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'

const TTL_MS = 10_000

function acquire(env: CheckEnv, name: string, max: number, ttlMs = TTL_MS) {
  return env.storage.acquireProbe!(name, max, ttlMs)
}

async function acquireAll(env: CheckEnv, name: string, max: number, times: number) {
  const leases = []
  for (let i = 0; i < times; i++) leases.push(await acquire(env, name, max))
  return leases
}

/** Half-open probe permits: at most `max`, released or lapsed after `ttlMs`. */
export const leaseChecks: readonly ConformanceCheck[] = [
  {
    group: 'leases',
    title: 'acquireProbe hands out at most max permits and null beyond',
    requires: ['persistent', 'leases'],
    async run(env) {
      const name = env.circuit()
      const leases = await acquireAll(env, name, 3, 5)
      env.expect(leases.filter((lease) => lease !== null)).toHaveLength(3)
      env.expect(leases[3]).toBeNull()
      env.expect(leases[4]).toBeNull()
    },
  },
  {
    group: 'leases',
    title: 'each permit has its own id and an expiresAt in epoch ms',
    requires: ['persistent', 'leases'],
    async run(env) {
      const name = env.circuit()
      const leases = await acquireAll(env, name, 3, 3)
      const ids = new Set(leases.map((lease) => lease?.id))
      env.expect(ids.size).toBe(3)
      for (const lease of leases) {
        env.expect(typeof lease?.id).toBe('string')
        env.expect(typeof lease?.expiresAt).toBe('number')
        if (env.options.time === 'injected') {
          env.expect(lease!.expiresAt).toBeGreaterThanOrEqual(env.now() + TTL_MS - env.options.granularityMs)
          env.expect(lease!.expiresAt).toBeLessThanOrEqual(env.now() + TTL_MS + env.options.granularityMs)
        } else {
          // A server clock still answers epoch ms, not a process-monotonic value.
          env.expect(lease!.expiresAt).toBeGreaterThanOrEqual(Date.UTC(2020, 0, 1))
        }
      }
    },
  },
  {
    group: 'leases',
    title: 'releasing a permit frees it for the next acquirer',
    requires: ['persistent', 'leases'],
    async run(env) {
      const name = env.circuit()
      const [first, second] = await acquireAll(env, name, 2, 2)
      env.expect(await acquire(env, name, 2)).toBeNull()
      await first!.release()
      env.expect(await acquire(env, name, 2)).not.toBeNull()
      env.expect(await acquire(env, name, 2)).toBeNull()
      env.expect(second).not.toBeNull()
    },
  },
  {
    group: 'leases',
    title: 'releasing a permit twice frees only one permit',
    requires: ['persistent', 'leases'],
    async run(env) {
      const name = env.circuit()
      const [first] = await acquireAll(env, name, 2, 2)
      await first!.release()
      await first!.release()
      env.expect(await acquire(env, name, 2)).not.toBeNull()
      env.expect(await acquire(env, name, 2)).toBeNull()
    },
  },
  {
    group: 'leases',
    title: 'permits are counted per circuit',
    requires: ['persistent', 'leases'],
    async run(env) {
      const a = env.circuit('a')
      const b = env.circuit('b')
      env.expect(await acquire(env, a, 1)).not.toBeNull()
      env.expect(await acquire(env, a, 1)).toBeNull()
      env.expect(await acquire(env, b, 1)).not.toBeNull()
    },
  },
  {
    group: 'leases',
    title: 'a permit lapses after ttlMs of injected time',
    requires: ['persistent', 'leases', 'injectedTime'],
    async run(env) {
      const name = env.circuit()
      const g = env.options.granularityMs
      env.expect(await acquire(env, name, 1)).not.toBeNull()
      env.advance(TTL_MS - g)
      env.expect(await acquire(env, name, 1)).toBeNull()
      env.advance(2 * g)
      env.expect(await acquire(env, name, 1)).not.toBeNull()
      env.expect(await acquire(env, name, 1)).toBeNull()
    },
  },
  {
    group: 'leases',
    title: 'releasing a lapsed permit does not free the permit handed out after it',
    requires: ['persistent', 'leases', 'injectedTime'],
    async run(env) {
      const name = env.circuit()
      const stale = await acquire(env, name, 1)
      env.advance(TTL_MS + env.options.granularityMs)
      const fresh = await acquire(env, name, 1)
      env.expect(fresh).not.toBeNull()
      await stale!.release()
      env.expect(await acquire(env, name, 1)).toBeNull()
    },
  },
  {
    group: 'leases',
    title: '20 racing acquireProbe calls hand out exactly max permits',
    requires: ['persistent', 'leases'],
    async run(env) {
      const name = env.circuit()
      const leases = await Promise.all(Array.from({ length: 20 }, () => acquire(env, name, 3)))
      env.expect(leases.filter((lease) => lease !== null)).toHaveLength(3)
    },
  },
  {
    group: 'leases',
    title: 'clear gives back every permit of the circuit',
    requires: ['persistent', 'leases'],
    async run(env) {
      const name = env.circuit()
      await acquireAll(env, name, 2, 2)
      env.expect(await acquire(env, name, 2)).toBeNull()
      await env.storage.clear(name)
      env.expect(await acquire(env, name, 2)).not.toBeNull()
    },
  },
]
