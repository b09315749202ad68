import { readFileSync } from 'node:fs'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'
import { KvStorage } from './walkthrough/kv-storage.js'
import { memoryKvClient } from './walkthrough/memory-kv-client.js'

// The backend the README walks through, hooked up the way the README says.
storageConformance({ describe, it, expect }, ({ clock }) => new KvStorage({ client: memoryKvClient(), clock }), {
  name: 'the README walkthrough (KvStorage on an in-process client)',
  granularityMs: 1_000,
  maxWindowMs: 3_600_000,
})

describe('the README walkthrough', () => {
  it('shows the very file the conformance suite runs', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const source = readFileSync(new URL('./walkthrough/kv-storage.ts', import.meta.url), 'utf8')
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    expect(blocks).toContain(source)
  })

  it('reads corrupt stored values as absent and reports them, as the kit does for every backend', async () => {
    const client = memoryKvClient()
    const storage = new KvStorage({ client, clock: () => 1_767_225_600_000 })
    const reports: unknown[] = []
    const onReport = (message: unknown) => void reports.push(message)
    subscribe('breaker:storage:error', onReport)
    try {
      client.data.set('breaker:c:status', { status: 'open', openedAt: 'soon', epoch: 1, updatedAt: 0 })
      client.data.set('breaker:c:failures:1767225600', '041')
      expect(await storage.getStatus('c')).toBeNull()
      expect(await storage.failureCount('c', 1_000)).toBe(0)
      expect(reports).toHaveLength(2)
    } finally {
      unsubscribe('breaker:storage:error', onReport)
    }
  })
})
