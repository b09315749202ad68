export { KeyvStorage } from './keyv-storage.js'
export type { KeyvStorageOptions } from './options.js'
