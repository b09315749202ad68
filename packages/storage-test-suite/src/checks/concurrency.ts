import type { ConformanceCheck } from '../check.js'
import { countsOf } from './counts.js'

/** How many writers run at once in the concurrency checks. */
export const CONCURRENT_WRITERS = 500

/** Many writers in one process at once: nothing lost, nothing doubled. */
export const concurrencyChecks: readonly ConformanceCheck[] = [
  {
    group: 'concurrency',
    title: `${CONCURRENT_WRITERS} concurrent recordFailure/recordSuccess calls are all counted exactly`,
    requires: ['persistent'],
    async run(env) {
      const name = env.circuit()
      await Promise.all(
        Array.from({ length: CONCURRENT_WRITERS }, (_, i) =>
          i % 2 === 0 ? env.storage.recordFailure(name, i) : env.storage.recordSuccess(name, i),
        ),
      )
      const half = CONCURRENT_WRITERS / 2
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: half, successes: half })
    },
  },
  {
    group: 'concurrency',
    title: `${CONCURRENT_WRITERS} concurrent record calls are all counted and the last to write sees them all`,
    requires: ['persistent', 'record'],
    async run(env) {
      const name = env.circuit()
      const answers = await Promise.all(
        Array.from({ length: CONCURRENT_WRITERS }, () => env.storage.record!(name, 'failure', 1, env.windowMs)),
      )
      let max = 0
      for (const { failures } of answers) {
        // Each answer includes its own write and nothing that was never written.
        env.expect(failures).toBeGreaterThanOrEqual(1)
        env.expect(failures).toBeLessThanOrEqual(CONCURRENT_WRITERS)
        max = Math.max(max, failures)
      }
      env.expect(max).toBe(CONCURRENT_WRITERS)
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: CONCURRENT_WRITERS, successes: 0 })
    },
  },
  {
    group: 'concurrency',
    title: `${CONCURRENT_WRITERS} concurrent recordBatch calls are all counted exactly`,
    requires: ['persistent', 'recordBatch'],
    async run(env) {
      const name = env.circuit()
      await Promise.all(
        Array.from({ length: CONCURRENT_WRITERS }, () => env.storage.recordBatch!(name, { failures: 2, successes: 1 }, env.windowMs)),
      )
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 2 * CONCURRENT_WRITERS, successes: CONCURRENT_WRITERS })
    },
  },
]
