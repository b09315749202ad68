import { Circuit } from '../packages/core/dist/index.js'
import { BucketMemoryStorage } from '../packages/storage-bucket/dist/index.js'
const ok = async () => 1
const storage = new BucketMemoryStorage({ bucketCount: 10 })
const many = Array.from({ length: 10000 }, (_, i) => new Circuit('m' + i, { storage, registry: false, threshold: { failureRate: 0.5, minimumCalls: 20, within: 10000 }, resetAfter: 30_000 }))
let k = 0
const t0 = process.hrtime.bigint()
for (let i = 0; i < 2_000_000; i++) await many[k++ % 10000].call(ok)
console.log(Number(process.hrtime.bigint() - t0) / 2e6, 'ns/call')
