import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'
import { countsOf } from './counts.js'

/** A batch as large as an import of a busy circuit's counts. */
export const LARGE_BATCH = 300_000_000

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** `name` padded to exactly `bytes` UTF-8 bytes (two-byte `é` first, then ASCII), unique through its start. */
export function nameOfBytes(base: string, bytes: number): string {
  let name = base.length > bytes ? base.slice(0, bytes) : base
  while (Buffer.byteLength(name, 'utf8') + 2 <= bytes) name += 'é'
  while (Buffer.byteLength(name, 'utf8') < bytes) name += 'x'
  return name
}

async function expectCounts(env: CheckEnv, counts: unknown): Promise<{ failures: number; successes: number }> {
  const { failures, successes } = counts as { failures: unknown; successes: unknown }
  env.expect(isCount(failures)).toBe(true)
  env.expect(isCount(successes)).toBe(true)
  return { failures: failures as number, successes: successes as number }
}

/** Counts of any size and names of the longest declared length. */
export const limitChecks: readonly ConformanceCheck[] = [
  {
    group: 'limits',
    title: `a recordBatch of ${LARGE_BATCH.toLocaleString('en')} failures is counted exactly, in one call`,
    requires: ['persistent', 'recordBatch'],
    async run(env) {
      const name = env.circuit()
      const answer = await env.storage.recordBatch!(name, { failures: LARGE_BATCH, successes: 1 }, env.windowMs)
      env.expect(answer).toEqual({ failures: LARGE_BATCH, successes: 1 })
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: LARGE_BATCH, successes: 1 })
    },
  },
  {
    group: 'limits',
    title: 'after batches of Number.MAX_SAFE_INTEGER, counts stay safe integers >= 0 and never decrease (they saturate)',
    requires: ['persistent', 'recordBatch'],
    async run(env) {
      const name = env.circuit()
      const huge = { failures: Number.MAX_SAFE_INTEGER, successes: Number.MAX_SAFE_INTEGER }
      let last = { failures: 0, successes: 0 }
      for (let i = 0; i < 3; i++) {
        const answer = await expectCounts(env, await env.storage.recordBatch!(name, huge, env.windowMs))
        const read = await expectCounts(env, await countsOf(env, name, env.windowMs))
        for (const seen of [answer, read]) {
          env.expect(seen.failures).toBeGreaterThanOrEqual(Math.max(1, last.failures))
          env.expect(seen.successes).toBeGreaterThanOrEqual(Math.max(1, last.successes))
        }
        last = read
      }
      await env.storage.recordFailure(name, 1)
      await expectCounts(env, await countsOf(env, name, env.windowMs))
    },
  },
  {
    group: 'limits',
    title: 'a name of exactly capabilities.maxNameBytes UTF-8 bytes is kept, counted and cleared',
    requires: ['persistent', 'maxNameBytes'],
    async run(env) {
      const bytes = env.storage.capabilities.maxNameBytes!
      const name = nameOfBytes(env.circuit('max'), bytes)
      env.expect(Buffer.byteLength(name, 'utf8')).toBe(bytes)
      const record = env.status('open', 3)
      await env.storage.setStatus(name, record)
      await env.storage.recordFailure(name, 1)
      env.expect(await env.storage.getStatus(name)).toEqual(record)
      env.expect(await env.storage.failureCount(name, env.windowMs)).toBe(1)
      await env.storage.clear(name)
      env.expect(await env.storage.getStatus(name)).toBeNull()
      env.expect(await env.storage.failureCount(name, env.windowMs)).toBe(0)
    },
  },
]
