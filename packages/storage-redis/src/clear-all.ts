import type { Cluster, Redis } from 'ioredis'
import { prefixPattern } from './keys.js'

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)

// Only the key shapes the storage writes; a user key that happens to match the glob stays, and so
// does a redisLock key, which belongs to its holder and lapses on its own.
function ownKey(fullPrefix: string): RegExp {
  return new RegExp(`^${escapeRegExp(fullPrefix)}:\\{[^{}]*\\}:(?:status|counts|leases)$`)
}

/**
 * Deletes every key of `prefix` with SCAN + UNLINK on each master (never KEYS, never FLUSH).
 * Answers how many keys were deleted. Honours an ioredis `keyPrefix`: ioredis adds it to the keys
 * of every command but not to SCAN patterns, nor does it strip it from what SCAN answers.
 */
export async function clearPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  let deleted = 0
  for (const node of nodes) {
    const keyPrefix = node.options.keyPrefix ?? ''
    const pattern = escapeGlob(keyPrefix) + prefixPattern(prefix)
    const own = ownKey(keyPrefix + prefix)
    let cursor = '0'
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      // Stripped, since UNLINK will have ioredis add the keyPrefix again.
      const keys = found.filter((key) => own.test(key)).map((key) => key.slice(keyPrefix.length))
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
