import type { ConformanceCheck } from '../check.js'

/** For storages that forget by design (`persistent: false`), such as NullStorage. */
export const forgetfulChecks: readonly ConformanceCheck[] = [
  {
    group: 'forgetful',
    title: 'every method answers null, 0 or nothing without throwing (persistent: false)',
    requires: [],
    forgetfulOnly: true,
    async run(env) {
      const { storage, expect } = env
      const name = env.circuit()
      await storage.setStatus(name, env.status('open', 1))
      expect(await storage.getStatus(name)).toBeNull()
      await storage.recordFailure(name, 1)
      await storage.recordSuccess(name, 1)
      expect(await storage.failureCount(name, env.windowMs)).toBe(0)
      expect(await storage.successCount(name, env.windowMs)).toBe(0)
      if (storage.record) {
        expect(await storage.record(name, 'failure', 1, env.windowMs)).toEqual({ failures: 0, successes: 0 })
      }
      if (storage.recordBatch) {
        expect(await storage.recordBatch(name, { failures: 2, successes: 3 }, env.windowMs)).toEqual({ failures: 0, successes: 0 })
      }
      if (storage.compareAndSetStatus) {
        expect(typeof (await storage.compareAndSetStatus(name, 0, env.status('open', 1)))).toBe('boolean')
        expect(await storage.getStatus(name)).toBeNull()
      }
      if (storage.eventLog) expect(await storage.eventLog(name, 10)).toEqual([])
      expect(await storage.clear(name)).toBe(undefined)
      expect(await storage.clearAll()).toBe(undefined)
    },
  },
]
