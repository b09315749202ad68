import type { Cluster, Redis } from 'ioredis'
import { prefixPattern } from './keys.js'

// Only the key shapes the storage writes; a user key that happens to match the glob stays, and so
// does a redisLock key, which belongs to its holder and lapses on its own.
function ownKey(prefix: string): RegExp {
  const literal = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^${literal}:\\{[^{}]*\\}:(?:status|counts|leases)$`)
}

/**
 * Deletes every key of `prefix` with SCAN + UNLINK on each master (never KEYS, never FLUSH).
 * Answers how many keys were deleted.
 */
export async function clearPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  const pattern = prefixPattern(prefix)
  const own = ownKey(prefix)
  let deleted = 0
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      const keys = found.filter((key) => own.test(key))
      if (keys.length === 0) continue
      if (client.isCluster) {
        // Multi-key commands must stay within one slot on a Cluster; one UNLINK per key, pipelined.
        const pipeline = node.pipeline()
        for (const key of keys) pipeline.unlink(key)
        await pipeline.exec()
      } else {
        await node.unlink(...keys)
      }
      deleted += keys.length
    } while (cursor !== '0')
  }
  return deleted
}
