import type { KvClient } from './kv-storage.js'

/** An in-process KvClient answering a macrotask later, like a network store would. */
export function memoryKvClient(): KvClient & { readonly data: Map<string, unknown> } {
  const data = new Map<string, unknown>()
  const later = () => new Promise<void>((resolve) => setImmediate(resolve))
  return {
    data,
    async get(key) {
      await later()
      return structuredClone(data.get(key))
    },
    async getMany(keys) {
      await later()
      return keys.map((key) => structuredClone(data.get(key)))
    },
    async set(key, value) {
      await later()
      data.set(key, structuredClone(value))
    },
    async increment(key, by) {
      await later()
      const sum = Number(data.get(key) ?? 0) + by
      data.set(key, sum)
      return sum
    },
    async delete(keys) {
      await later()
      for (const key of keys) data.delete(key)
    },
    async keys(prefix) {
      await later()
      return [...data.keys()].filter((key) => key.startsWith(prefix))
    },
  }
}
