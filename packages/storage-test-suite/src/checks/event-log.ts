import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'

function log(env: CheckEnv, name: string, limit: number) {
  return env.storage.eventLog!(name, limit)
}

/** The detailed event log, where a storage keeps one. */
export const eventLogChecks: readonly ConformanceCheck[] = [
  {
    group: 'eventLog',
    title: 'eventLog answers the outcomes newest first with their type, time and duration',
    requires: ['persistent', 'eventLog'],
    async run(env) {
      const name = env.circuit()
      const start = env.now()
      await env.storage.recordFailure(name, 10)
      env.advance(5)
      await env.storage.recordSuccess(name, 20)
      env.advance(5)
      await env.storage.recordFailure(name, 30)
      const entries = await log(env, name, 10)
      env.expect(entries.map(({ type, durationMs }) => ({ type, durationMs }))).toEqual([
        { type: 'failure', durationMs: 30 },
        { type: 'success', durationMs: 20 },
        { type: 'failure', durationMs: 10 },
      ])
      if (env.options.time === 'injected') {
        env.expect(entries.map((entry) => entry.at)).toEqual([start + 10, start + 5, start])
      }
    },
  },
  {
    group: 'eventLog',
    title: 'eventLog answers at most limit entries, the newest ones',
    requires: ['persistent', 'eventLog'],
    async run(env) {
      const name = env.circuit()
      for (let i = 1; i <= 5; i++) await env.storage.recordFailure(name, i)
      const entries = await log(env, name, 2)
      env.expect(entries.map((entry) => entry.durationMs)).toEqual([5, 4])
    },
  },
  {
    group: 'eventLog',
    title: 'eventLog of a circuit never written, or cleared, is empty',
    requires: ['persistent', 'eventLog'],
    async run(env) {
      env.expect(await log(env, env.circuit(), 10)).toEqual([])
      const name = env.circuit()
      await env.storage.recordFailure(name, 1)
      await env.storage.clear(name)
      env.expect(await log(env, name, 10)).toEqual([])
    },
  },
]
