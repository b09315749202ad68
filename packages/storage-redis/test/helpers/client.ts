import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import type { RedisServer } from './redis-server.mjs'

/** An ioredis client on a test server that fails fast instead of hanging when the server is gone. */
export function connect(server: RedisServer, options: RedisOptions = {}): Redis {
  return new Redis({
    host: server.host,
    port: server.port,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => (times > 20 ? null : 50),
    ...options,
  })
}
