import type { Outcome, WindowCounts } from '@breaker/core'
import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'
import { countsOf } from './counts.js'

function record(env: CheckEnv, name: string, outcome: Outcome, windowMs = env.windowMs) {
  return env.storage.record!(name, outcome, 3, windowMs)
}

function recordBatch(env: CheckEnv, name: string, batch: WindowCounts, windowMs = env.windowMs) {
  return env.storage.recordBatch!(name, batch, windowMs)
}

/** `record` and `recordBatch`: write and count in one trip, the answer including the write. */
export const recordChecks: readonly ConformanceCheck[] = [
  {
    group: 'record',
    title: 'record answers the counts over the window including the outcome it wrote',
    requires: ['persistent', 'record'],
    async run(env) {
      const name = env.circuit()
      env.expect(await record(env, name, 'failure')).toEqual({ failures: 1, successes: 0 })
      env.expect(await record(env, name, 'success')).toEqual({ failures: 1, successes: 1 })
      await env.storage.recordFailure(name, 1)
      env.expect(await record(env, name, 'failure')).toEqual({ failures: 3, successes: 1 })
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 3, successes: 1 })
    },
  },
  {
    group: 'record',
    title: 'record counts only what lies inside its window',
    requires: ['persistent', 'record', 'injectedTime'],
    async run(env) {
      const name = env.circuit()
      await record(env, name, 'failure')
      env.advance(env.windowMs + env.options.granularityMs)
      env.expect(await record(env, name, 'success')).toEqual({ failures: 0, successes: 1 })
    },
  },
  {
    group: 'record',
    title: 'recordBatch answers the counts over the window including the whole batch',
    requires: ['persistent', 'recordBatch'],
    async run(env) {
      const name = env.circuit()
      await env.storage.recordFailure(name, 1)
      env.expect(await recordBatch(env, name, { failures: 3, successes: 2 })).toEqual({ failures: 4, successes: 2 })
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 4, successes: 2 })
    },
  },
  {
    group: 'record',
    title: 'recordBatch of an empty batch writes nothing and answers the current counts',
    requires: ['persistent', 'recordBatch'],
    async run(env) {
      const name = env.circuit()
      await env.storage.recordSuccess(name, 1)
      env.expect(await recordBatch(env, name, { failures: 0, successes: 0 })).toEqual({ failures: 0, successes: 1 })
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 0, successes: 1 })
    },
  },
  {
    group: 'record',
    title: 'recordBatch counts only what lies inside its window',
    requires: ['persistent', 'recordBatch', 'injectedTime'],
    async run(env) {
      const name = env.circuit()
      await recordBatch(env, name, { failures: 4, successes: 1 })
      env.advance(env.windowMs + env.options.granularityMs)
      env.expect(await recordBatch(env, name, { failures: 1, successes: 2 })).toEqual({ failures: 1, successes: 2 })
    },
  },
]
