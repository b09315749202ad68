import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import type { RedisServer } from './redis-server.mjs'

/** An ioredis client on a test server that fails fast instead of hanging when the server is gone. */
export function connect(server: RedisServer, options: RedisOptions = {}): Redis {
  const settings = {
    connectTimeout: 1_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => (times > 20 ? null : 50),
    ...options,
  }
  // ioredis 6's option types do not survive exactOptionalPropertyTypes (replyMapping?: …).
  return new Redis(server.port, server.host, settings as Omit<RedisOptions, 'replyMapping'>)
}
