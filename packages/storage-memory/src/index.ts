export { MemoryStorage } from './memory-storage.js'
export type { MemoryFootprint } from './memory-storage.js'
export type { MemoryStorageOptions } from './options.js'
