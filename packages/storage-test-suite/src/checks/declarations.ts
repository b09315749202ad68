import type { ConformanceCheck } from '../check.js'

const BOOLEAN_DECLARATIONS = ['stateless', 'eventLog', 'signal'] as const

/**
 * The optional declarations a storage makes instead of being probed at run time: `stateless`,
 * `eventLog`, `signal`, `maxNameBytes`, and the optional `ready()` and `retain()` members.
 */
export const declarationChecks: readonly ConformanceCheck[] = [
  {
    group: 'capabilities',
    title: 'optional declarations are well formed: stateless, eventLog and signal booleans, maxNameBytes a positive safe integer',
    requires: [],
    async run({ storage, expect }) {
      const capabilities = storage.capabilities as unknown as Record<string, unknown>
      for (const flag of BOOLEAN_DECLARATIONS) {
        if (capabilities[flag] !== undefined) expect(typeof capabilities[flag]).toBe('boolean')
      }
      const max = capabilities['maxNameBytes']
      if (max !== undefined) {
        expect(Number.isSafeInteger(max)).toBe(true)
        expect(max as number).toBeGreaterThanOrEqual(1)
      }
    },
  },
  {
    group: 'capabilities',
    title: 'capabilities.eventLog comes with an eventLog method; ready() answers a boolean; retain, when offered, is a function',
    requires: [],
    async run({ storage, expect }) {
      if (storage.capabilities.eventLog === true) expect(typeof storage.eventLog).toBe('function')
      if (storage.ready !== undefined) {
        expect(typeof storage.ready).toBe('function')
        expect(typeof storage.ready()).toBe('boolean')
      }
      if (storage.retain !== undefined) expect(typeof storage.retain).toBe('function')
    },
  },
]
