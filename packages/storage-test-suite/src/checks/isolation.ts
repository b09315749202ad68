import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'
import { countsOf } from './counts.js'

/**
 * Names that trip up key schemes: glob and hash-tag characters, separators, spaces,
 * regex metacharacters, unicode beyond the BMP and names that are prefixes of each other.
 */
export function awkwardNames(env: CheckEnv): string[] {
  const base = env.circuit('awkward')
  return [
    base,
    `${base}*`,
    `*${base}`,
    `${base}:*`,
    `${base}:x`,
    `{${base}}`,
    `{${base}}:x`,
    `${base} x`,
    `${base} `,
    `${base}.*?[a-z]+(x)|$^\\`,
    `${base}%s$1`,
    `${base}ü→中文😀`,
  ]
}

/** Circuits never see each other's data, whatever their names. */
export const isolationChecks: readonly ConformanceCheck[] = [
  {
    group: 'isolation',
    title: 'outcomes of one circuit are not counted for another',
    requires: ['persistent'],
    async run(env) {
      const a = env.circuit('a')
      const b = env.circuit('b')
      await env.storage.recordFailure(a, 1)
      await env.storage.recordFailure(a, 1)
      await env.storage.recordSuccess(b, 1)
      env.expect(await countsOf(env, a, env.windowMs)).toEqual({ failures: 2, successes: 0 })
      env.expect(await countsOf(env, b, env.windowMs)).toEqual({ failures: 0, successes: 1 })
    },
  },
  {
    group: 'isolation',
    title: 'the status of one circuit is not visible under another',
    requires: ['persistent'],
    async run(env) {
      const a = env.circuit('a')
      const b = env.circuit('b')
      const record = env.status('open', 1)
      await env.storage.setStatus(a, record)
      env.expect(await env.storage.getStatus(a)).toEqual(record)
      env.expect(await env.storage.getStatus(b)).toBeNull()
    },
  },
  {
    group: 'isolation',
    title: 'names with *, :, {, }, spaces, regex characters and unicode are kept apart',
    requires: ['persistent'],
    async run(env) {
      const names = awkwardNames(env)
      for (const [i, name] of names.entries()) {
        await env.storage.setStatus(name, env.status('open', i + 1))
        for (let n = 0; n <= i; n++) await env.storage.recordFailure(name, 1)
      }
      for (const [i, name] of names.entries()) {
        env.expect((await env.storage.getStatus(name))?.epoch).toBe(i + 1)
        env.expect(await env.storage.failureCount(name, env.windowMs)).toBe(i + 1)
      }
      // A glob in a name must not widen a clear to its neighbours.
      await env.storage.clear(names[1]!)
      for (const [i, name] of names.entries()) {
        const expected = i === 1 ? 0 : i + 1
        env.expect(await env.storage.failureCount(name, env.windowMs)).toBe(expected)
        env.expect((await env.storage.getStatus(name))?.epoch ?? 0).toBe(i === 1 ? 0 : i + 1)
      }
    },
  },
]
