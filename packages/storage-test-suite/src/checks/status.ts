import type { ConformanceCheck } from '../check.js'

/** Status round trip and last-writer-wins `setStatus`. */
export const statusChecks: readonly ConformanceCheck[] = [
  {
    group: 'status',
    title: 'getStatus answers null for a circuit never written',
    requires: [],
    async run({ storage, expect, circuit }) {
      expect(await storage.getStatus(circuit())).toBeNull()
    },
  },
  {
    group: 'status',
    title: 'getStatus answers the record exactly as setStatus wrote it, for every state',
    requires: ['persistent'],
    async run({ storage, expect, circuit, status, advance }) {
      const open = circuit('open')
      const closed = circuit('closed')
      const halfOpen = circuit('half-open')
      const openRecord = status('open', 3)
      advance(17)
      const closedRecord = status('closed', 4)
      const halfOpenRecord = status('half_open', 7, { openedAt: 1_700_000_000_123 })
      await storage.setStatus(open, openRecord)
      await storage.setStatus(closed, closedRecord)
      await storage.setStatus(halfOpen, halfOpenRecord)
      expect(await storage.getStatus(open)).toEqual(openRecord)
      expect(await storage.getStatus(closed)).toEqual(closedRecord)
      expect(await storage.getStatus(halfOpen)).toEqual(halfOpenRecord)
      expect((await storage.getStatus(closed))?.openedAt).toBeNull()
    },
  },
  {
    group: 'status',
    title: 'setStatus overwrites the previous record unconditionally (last writer wins, even a lower epoch)',
    requires: ['persistent'],
    async run({ storage, expect, circuit, status, advance }) {
      const name = circuit()
      await storage.setStatus(name, status('open', 1))
      advance(1_000)
      const second = status('closed', 2)
      await storage.setStatus(name, second)
      expect(await storage.getStatus(name)).toEqual(second)
      advance(1_000)
      const lower = status('half_open', 1)
      await storage.setStatus(name, lower)
      expect(await storage.getStatus(name)).toEqual(lower)
    },
  },
]
