import Keyv from 'keyv'
import KeyvPostgres from '@keyv/postgres'
import KeyvRedis from '@keyv/redis'

/** PostgreSQL the tests use: `PG_URL`, or the local server CI starts (trust auth, database `test`). */
export const PG_URL = process.env['PG_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/test'

/** A Keyv on a Redis server the tests started, failing fast when it is gone. */
export function redisKeyv(url: string): Keyv {
  const store = new KeyvRedis(
    { url, socket: { connectTimeout: 1_000, reconnectStrategy: (retries: number) => (retries > 5 ? new Error('gone') : 50) } },
    { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: 1_000 },
  )
  return new Keyv({ store, namespace: 'breaker-test', useKeyPrefix: false })
}

/** A Keyv on PostgreSQL (table `breaker_keyv_test`), with short connection and statement timeouts. */
export function postgresKeyv(): Keyv {
  const store = new KeyvPostgres({
    uri: PG_URL,
    table: 'breaker_keyv_test',
    max: 4,
    connectionTimeoutMillis: 2_000,
    statement_timeout: 5_000,
  })
  return new Keyv({ store, namespace: 'breaker-test' })
}

/** A Keyv on an in-process Map. */
export function memoryKeyv(): Keyv {
  return new Keyv({ store: new Map() })
}

/**
 * Makes sure the test table exists before parallel test files and child processes use it:
 * concurrent `CREATE TABLE IF NOT EXISTS` can fail on PostgreSQL, so the first one is retried.
 */
export async function preparePostgres(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const keyv = postgresKeyv()
    keyv.throwOnErrors = true
    try {
      await keyv.get('prepare')
      return
    } catch (error) {
      if (attempt >= 5) throw error
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
    } finally {
      await keyv.disconnect().catch(() => {})
    }
  }
}
