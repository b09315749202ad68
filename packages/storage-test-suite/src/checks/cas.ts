import type { StatusRecord } from '@breaker/core'
import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'

/** How many writers race in the CAS check. */
export const CAS_RACERS = 25

function cas(env: CheckEnv, name: string, expected: number, record: StatusRecord) {
  // The requirement list guarantees the method exists before any CAS check runs.
  return env.storage.compareAndSetStatus!(name, expected, record)
}

async function race(env: CheckEnv, name: string, expected: number): Promise<void> {
  const { expect, status } = env
  // Distinct updatedAt per racer tells which one was stored.
  const records = Array.from({ length: CAS_RACERS }, (_, i) => status('open', expected + 1, { updatedAt: env.now() + i }))
  // Fire every call before awaiting any: a synchronous storage answers in turn, an async one races.
  const answers = await Promise.all(records.map((record) => cas(env, name, expected, record)))
  const winners = answers.flatMap((won, i) => (won === true ? [i] : []))
  expect(winners).toHaveLength(1)
  expect(answers.filter((won) => won === false)).toHaveLength(CAS_RACERS - 1)
  expect(await env.storage.getStatus(name)).toEqual(records[winners[0]!])
}

/** compareAndSetStatus: absent is epoch 0, a wrong epoch writes nothing, one racer wins. */
export const casChecks: readonly ConformanceCheck[] = [
  {
    group: 'compareAndSetStatus',
    title: 'compareAndSetStatus expecting epoch 0 writes to a circuit never written and answers true',
    requires: ['persistent', 'cas'],
    async run(env) {
      const name = env.circuit()
      const record = env.status('open', 1)
      env.expect(await cas(env, name, 0, record)).toBe(true)
      env.expect(await env.storage.getStatus(name)).toEqual(record)
    },
  },
  {
    group: 'compareAndSetStatus',
    title: 'compareAndSetStatus expecting a non-zero epoch of a circuit never written answers false and writes nothing',
    requires: ['persistent', 'cas'],
    async run(env) {
      const name = env.circuit()
      env.expect(await cas(env, name, 1, env.status('open', 2))).toBe(false)
      env.expect(await env.storage.getStatus(name)).toBeNull()
    },
  },
  {
    group: 'compareAndSetStatus',
    title: 'compareAndSetStatus writes when the stored epoch equals the expectation',
    requires: ['persistent', 'cas'],
    async run(env) {
      const name = env.circuit()
      await env.storage.setStatus(name, env.status('open', 4))
      env.advance(500)
      const next = env.status('half_open', 5)
      env.expect(await cas(env, name, 4, next)).toBe(true)
      env.expect(await env.storage.getStatus(name)).toEqual(next)
      env.advance(500)
      const closed = env.status('closed', 6)
      env.expect(await cas(env, name, 5, closed)).toBe(true)
      env.expect(await env.storage.getStatus(name)).toEqual(closed)
    },
  },
  {
    group: 'compareAndSetStatus',
    title: 'compareAndSetStatus answers false and writes nothing when the stored epoch differs',
    requires: ['persistent', 'cas'],
    async run(env) {
      const name = env.circuit()
      const stored = env.status('open', 4)
      await env.storage.setStatus(name, stored)
      env.advance(500)
      for (const wrong of [0, 3, 5, 40]) {
        env.expect(await cas(env, name, wrong, env.status('closed', wrong + 1))).toBe(false)
      }
      env.expect(await env.storage.getStatus(name)).toEqual(stored)
    },
  },
  {
    group: 'compareAndSetStatus',
    title: `of ${CAS_RACERS} racing compareAndSetStatus calls on a circuit never written exactly one wins`,
    requires: ['persistent', 'cas'],
    async run(env) {
      await race(env, env.circuit(), 0)
    },
  },
  {
    group: 'compareAndSetStatus',
    title: `of ${CAS_RACERS} racing compareAndSetStatus calls with the stored epoch exactly one wins`,
    requires: ['persistent', 'cas'],
    async run(env) {
      const name = env.circuit()
      await env.storage.setStatus(name, env.status('closed', 9))
      await race(env, name, 9)
    },
  },
]
