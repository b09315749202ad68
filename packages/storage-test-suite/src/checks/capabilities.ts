import type { ConformanceCheck } from '../check.js'

const SCOPES = ['process', 'host', 'cluster']
const FLAGS = ['atomic', 'cas', 'leases', 'subscribe'] as const

/** What a storage declares about itself, read by the circuit instead of probing. */
export const capabilityChecks: readonly ConformanceCheck[] = [
  {
    group: 'capabilities',
    title: 'name is a non-empty string and capabilities is well formed',
    requires: [],
    async run({ storage, expect }) {
      expect(typeof storage.name).toBe('string')
      expect(storage.name.length).toBeGreaterThanOrEqual(1)
      const capabilities = storage.capabilities as unknown as Record<string, unknown>
      expect(typeof capabilities).toBe('object')
      expect(SCOPES.includes(capabilities['scope'] as string)).toBe(true)
      for (const flag of FLAGS) expect(typeof capabilities[flag]).toBe('boolean')
    },
  },
  {
    group: 'capabilities',
    title: 'every declared capability comes with its method, and the required methods exist',
    requires: [],
    async run({ storage, expect }) {
      const { capabilities } = storage
      if (capabilities.cas) expect(typeof storage.compareAndSetStatus).toBe('function')
      if (capabilities.leases) expect(typeof storage.acquireProbe).toBe('function')
      if (capabilities.subscribe) expect(typeof storage.subscribe).toBe('function')
      const required = ['getStatus', 'setStatus', 'recordSuccess', 'recordFailure', 'successCount', 'failureCount', 'clear', 'clearAll'] as const
      for (const method of required) expect(typeof storage[method]).toBe('function')
    },
  },
]
