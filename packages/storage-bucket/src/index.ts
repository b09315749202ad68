export { BucketMemoryStorage } from './bucket-storage.js'
export type { BucketMemoryStorageOptions } from './options.js'
