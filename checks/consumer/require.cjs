// CommonJS (a default `npm init` project): require() of the ESM-only packages, Node >= 20.19.
const assert = require('node:assert/strict')
const loaded = {
  '@breaker/core': require('@breaker/core').Circuit,
  '@breaker/otel': require('@breaker/otel').instrumentBreakers,
  '@breaker/storage-bucket': require('@breaker/storage-bucket').BucketMemoryStorage,
  '@breaker/storage-fallback': require('@breaker/storage-fallback').FallbackChainStorage,
  '@breaker/storage-keyv': require('@breaker/storage-keyv').KeyvStorage,
  '@breaker/storage-memory': require('@breaker/storage-memory').MemoryStorage,
  '@breaker/storage-mongo': require('@breaker/storage-mongo').MongoStorage,
  '@breaker/storage-redis': require('@breaker/storage-redis').RedisStorage,
  '@breaker/storage-sysv': require('@breaker/storage-sysv').SysVStorage,
  '@breaker/storage-test-suite': require('@breaker/storage-test-suite').storageConformance,
}
for (const [name, value] of Object.entries(loaded)) assert.equal(typeof value, 'function', `${name} via require()`)
console.log(`require: ok (${Object.keys(loaded).length} packages)`)
