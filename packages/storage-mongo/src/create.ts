import { ConfigurationError } from '@breaker/core'
import { supportsChangeStreams } from './detect.js'
import { SCOPE } from './options.js'
import type { MongoStorageOptions } from './options.js'

/** Options of `MongoStorage.create`: as the constructor's, and `changeStreams` may be `'detect'`. */
export interface MongoStorageCreateOptions extends Omit<MongoStorageOptions, 'changeStreams'> {
  /**
   * `true`/`false` as for the constructor, or `'detect'` to ask the server once (`hello`)
   * whether it is a replica set or sharded cluster. Default false.
   */
  changeStreams?: boolean | 'detect'
}

/** What `create` needs from the storage it builds. */
interface Startable {
  ensureIndexes(): Promise<void>
  startChangeStream(): Promise<void>
  readonly capabilities: { readonly subscribe: boolean }
}

/**
 * The body of `MongoStorage.create`: resolves `'detect'` with one `hello`, builds the storage,
 * creates its indexes and, when it subscribes, opens the change stream before answering.
 */
export async function detectAndCreate<S extends Startable>(
  options: MongoStorageCreateOptions,
  build: (options: MongoStorageOptions) => S,
): Promise<S> {
  let changeStreams = options?.changeStreams ?? false
  if (changeStreams === 'detect') {
    const db = options.db ?? options.collections?.status?.db
    if (db === undefined) {
      throw new ConfigurationError('changeStreams', "'detect' needs db or collections.status", changeStreams, SCOPE)
    }
    changeStreams = await supportsChangeStreams(db)
  }
  const storage = build({ ...options, changeStreams })
  await storage.ensureIndexes()
  if (storage.capabilities.subscribe) await storage.startChangeStream()
  return storage
}
