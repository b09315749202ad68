// Uses every published package the way their READMEs do, so the type-check covers each one's
// declarations; smoke.ts imports it, so each one is also loaded at run time.
import { Circuit, NullStorage, isCircuitOpenError } from '@breaker/core'
import type { CircuitState, Storage } from '@breaker/core'
import { instrumentBreakers } from '@breaker/otel'
import type { BreakerInstrumentation } from '@breaker/otel'
import { BucketMemoryStorage } from '@breaker/storage-bucket'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import { KeyvStorage } from '@breaker/storage-keyv'
import { MemoryStorage } from '@breaker/storage-memory'
import { MongoStorage } from '@breaker/storage-mongo'
import { RedisStorage, redisLock } from '@breaker/storage-redis'
import { SysVStorage, isSupported } from '@breaker/storage-sysv'
import { storageConformance } from '@breaker/storage-test-suite'
import type { Db } from 'mongodb'

export { BucketMemoryStorage, Circuit, FallbackChainStorage, KeyvStorage, MemoryStorage, NullStorage, RedisStorage, SysVStorage }
export { instrumentBreakers, isCircuitOpenError, isSupported, redisLock }
export type { BreakerInstrumentation, CircuitState, Storage }

/** MongoDB has no server on these machines: its storage is type-checked and loaded, never run. */
export function mongoStorage(db: Db): Promise<MongoStorage> {
  return MongoStorage.create({ db, changeStreams: 'detect' })
}

/** The conformance suite is type-checked against a runner's shape; the smoke never runs it. */
export function conformance(runner: Parameters<typeof storageConformance>[0]): void {
  storageConformance(runner, ({ clock }) => new MemoryStorage({ clock }), { name: 'memory' })
}
