import type { ConformanceCheck } from '../check.js'
import { countsOf } from './counts.js'

/** `clear` forgets one circuit, `clearAll` every circuit. */
export const clearChecks: readonly ConformanceCheck[] = [
  {
    group: 'clear',
    title: 'clear forgets the status and counts of that circuit only',
    requires: ['persistent'],
    async run(env) {
      const { storage, expect } = env
      const gone = env.circuit('gone')
      const kept = env.circuit('kept')
      const keptRecord = env.status('open', 2)
      for (const name of [gone, kept]) {
        await storage.setStatus(name, name === kept ? keptRecord : env.status('open', 5))
        await storage.recordFailure(name, 1)
        await storage.recordSuccess(name, 1)
      }
      await storage.clear(gone)
      expect(await storage.getStatus(gone)).toBeNull()
      expect(await countsOf(env, gone, env.windowMs)).toEqual({ failures: 0, successes: 0 })
      expect(await storage.getStatus(kept)).toEqual(keptRecord)
      expect(await countsOf(env, kept, env.windowMs)).toEqual({ failures: 1, successes: 1 })
    },
  },
  {
    group: 'clear',
    title: 'a cleared circuit counts again from zero',
    requires: ['persistent'],
    async run(env) {
      const name = env.circuit()
      await env.storage.recordFailure(name, 1)
      await env.storage.recordFailure(name, 1)
      await env.storage.clear(name)
      await env.storage.recordFailure(name, 1)
      env.expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 1, successes: 0 })
    },
  },
  {
    group: 'clear',
    title: 'clear of a circuit never written does nothing',
    requires: [],
    async run(env) {
      const name = env.circuit()
      await env.storage.clear(name)
      env.expect(await env.storage.getStatus(name)).toBeNull()
    },
  },
  {
    group: 'clear',
    title: 'clearAll forgets every circuit, and circuits work again afterwards',
    requires: ['persistent'],
    async run(env) {
      const { storage, expect } = env
      const names = [env.circuit('a'), env.circuit('b'), env.circuit('c:*')]
      for (const name of names) {
        await storage.setStatus(name, env.status('open', 1))
        await storage.recordFailure(name, 1)
        await storage.recordSuccess(name, 1)
      }
      await storage.clearAll()
      for (const name of names) {
        expect(await storage.getStatus(name)).toBeNull()
        expect(await countsOf(env, name, env.windowMs)).toEqual({ failures: 0, successes: 0 })
      }
      await storage.recordFailure(names[0]!, 1)
      expect(await storage.failureCount(names[0]!, env.windowMs)).toBe(1)
    },
  },
]
