import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'

/** Both counts of a circuit over a window, read with the two required methods. */
export async function countsOf(env: CheckEnv, name: string, windowMs: number) {
  const failures = await env.storage.failureCount(name, windowMs)
  const successes = await env.storage.successCount(name, windowMs)
  return { failures, successes }
}

/**
 * Counting per window. Boundaries are probed `granularityMs` away from the edge on either
 * side: an outcome at most `windowMs - granularityMs` old must count, one at least
 * `windowMs + granularityMs` old must not. What happens in between is the storage's choice.
 */
export const countChecks: readonly ConformanceCheck[] = [
  {
    group: 'counts',
    title: 'counts are 0 for a circuit never written',
    requires: [],
    async run(env) {
      env.expect(await countsOf(env, env.circuit(), env.windowMs)).toEqual({ failures: 0, successes: 0 })
    },
  },
  {
    group: 'counts',
    title: 'successes and failures are counted separately',
    requires: ['persistent'],
    async run(env) {
      const { storage } = env
      const name = env.circuit()
      await storage.recordFailure(name, 5)
      await storage.recordSuccess(name, 7)
      await storage.recordFailure(name, 0)
      await storage.recordFailure(name, 12)
      await storage.recordSuccess(name, 1)
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 3, successes: 2 })
    },
  },
  {
    group: 'counts',
    title: 'an outcome recorded at this very moment is counted (the window includes now)',
    requires: ['persistent', 'injectedTime'],
    async run(env) {
      const name = env.circuit()
      env.advance(1)
      await env.storage.recordFailure(name, 1)
      await env.storage.recordSuccess(name, 1)
      // The shortest window the storage can resolve still holds what happened now.
      env.expect(await countsOf(env, name, env.options.granularityMs)).toEqual({ failures: 1, successes: 1 })
    },
  },
  {
    group: 'counts',
    title: 'windowMs is in milliseconds: outcomes older than the window are no longer counted',
    requires: ['persistent', 'injectedTime'],
    async run(env) {
      const { windowMs } = env
      const g = env.options.granularityMs
      const name = env.circuit()
      await env.storage.recordFailure(name, 1)
      await env.storage.recordSuccess(name, 1)
      env.advance(windowMs - g)
      env.expect(await countsOf(env, name, windowMs)).toEqual({ failures: 1, successes: 1 })
      env.advance(2 * g)
      env.expect(await countsOf(env, name, windowMs)).toEqual({ failures: 0, successes: 0 })
    },
  },
  {
    group: 'counts',
    title: 'each outcome leaves the window on its own as the clock moves on',
    requires: ['persistent', 'injectedTime'],
    async run(env) {
      const { windowMs } = env
      const g = env.options.granularityMs
      const half = windowMs / 2
      const name = env.circuit()
      await env.storage.recordFailure(name, 1)
      env.advance(half)
      await env.storage.recordFailure(name, 1)
      await env.storage.recordSuccess(name, 1)
      env.advance(half + g)
      env.expect(await countsOf(env, name, windowMs)).toEqual({ failures: 1, successes: 1 })
      env.advance(half)
      env.expect(await countsOf(env, name, windowMs)).toEqual({ failures: 0, successes: 0 })
    },
  },
  {
    group: 'counts',
    title: 'a shorter window leaves out what a longer window includes',
    requires: ['persistent', 'injectedTime'],
    async run(env) {
      const { windowMs } = env
      const name = env.circuit()
      await env.storage.recordFailure(name, 1)
      env.advance(windowMs / 2)
      await env.storage.recordFailure(name, 1)
      // The first failure is windowMs/2 old: outside a window of windowMs/4 (>= granularityMs away).
      env.expect(await env.storage.failureCount(name, windowMs / 4)).toBe(1)
      env.expect(await env.storage.failureCount(name, windowMs)).toBe(2)
    },
  },
  {
    group: 'counts',
    title: 'the longest window (maxWindowMs, or one hour) counts everything recorded within it',
    requires: ['persistent', 'injectedTime'],
    async run(env) {
      const long = env.longWindowMs
      const g = env.options.granularityMs
      const step = long / 10
      const name = env.circuit()
      await env.storage.recordFailure(name, 1)
      // A success every tenth of the window walks a ring-based storage all the way round.
      const withSteps = step >= 2 * g
      let successes = 0
      if (withSteps) {
        for (let i = 1; i <= 9; i++) {
          env.advance(step)
          await env.storage.recordSuccess(name, 1)
          successes += 1
        }
        env.advance(step - g)
      } else {
        env.advance(long - g)
      }
      env.expect(await countsOf(env, name, long)).toEqual({ failures: 1, successes })
      env.advance(2 * g)
      env.expect(await countsOf(env, name, long)).toEqual({ failures: 0, successes })
    },
  },
  {
    group: 'counts',
    title: 'outcomes from whole windows ago are not added to an outcome recorded now',
    requires: ['persistent', 'injectedTime'],
    async run(env) {
      const long = env.longWindowMs
      const name = env.circuit()
      for (let i = 0; i < 5; i++) await env.storage.recordFailure(name, 1)
      await env.storage.recordSuccess(name, 1)
      // Exactly three long windows later: a ring of per-window slots lands on the same slot.
      env.advance(3 * long)
      env.expect(await countsOf(env, name, long)).toEqual({ failures: 0, successes: 0 })
      await env.storage.recordFailure(name, 1)
      env.expect(await countsOf(env, name, long)).toEqual({ failures: 1, successes: 0 })
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 1, successes: 0 })
    },
  },
]
