import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BucketMemoryStorage } from '@breaker/storage-bucket'

type Op =
  | { kind: 'advance'; ms: number }
  | { kind: 'write'; failures: number; successes: number; via: 'single' | 'record' | 'batch'; window: number }
  | { kind: 'count'; window: number }

const windows = fc.constantFrom(1_000, 2_500, 5_000, 10_000, 60_000)
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.constant(1_000), fc.integer({ min: 0, max: 1_500 }), fc.integer({ min: -20_000, max: 40_000 })) }),
  fc.record({
    kind: fc.constant('write' as const),
    failures: fc.integer({ min: 0, max: 3 }),
    successes: fc.integer({ min: 0, max: 3 }),
    via: fc.constantFrom('single' as const, 'record' as const, 'batch' as const),
    window: windows,
  }),
  fc.record({ kind: fc.constant('count' as const), window: windows }),
)

/** The obvious model: a map of second → counts, the newest second written, the same window rule. */
class Model {
  counts = new Map<number, [number, number]>()
  latest = Number.NEGATIVE_INFINITY
  constructor(readonly size: number) {}
  add(now: number, failures: number, successes: number) {
    const second = Math.max(Math.floor(now / 1000), this.latest)
    this.latest = second
    const [f, s] = this.counts.get(second) ?? [0, 0]
    this.counts.set(second, [f + failures, s + successes])
  }
  sum(now: number, windowMs: number) {
    const last = Math.max(Math.floor(now / 1000), this.latest)
    const first = Math.max(Math.floor((now - windowMs) / 1000), last - this.size + 1)
    let failures = 0
    let successes = 0
    for (const [second, [f, s]] of this.counts) {
      if (second >= first && second <= last) {
        failures += f
        successes += s
      }
    }
    return { failures, successes }
  }
}

describe('BucketMemoryStorage against a model', () => {
  it('answers the same counts as a naive per-second map under any mix of writes, counts and clock moves', () => {
    fc.assert(
      // Small rings wrap often, so windows span the whole ring and stale buckets are reset inside sums.
      fc.property(fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 40 })), fc.array(op, { maxLength: 200 }), (size, ops) => {
        let now = Date.UTC(2026, 0, 1) + 123
        const storage = new BucketMemoryStorage({ clock: () => now, bucketCount: size })
        const model = new Model(size)
        for (const step of ops) {
          if (step.kind === 'advance') now += step.ms
          else if (step.kind === 'count') {
            expect({ failures: storage.failureCount('c', step.window), successes: storage.successCount('c', step.window) }).toEqual(
              model.sum(now, step.window),
            )
          } else {
            // Only a call the storage sees tells it the time: writing zero outcomes one at a time
            // makes no call at all, while an empty batch still does.
            if (step.via === 'batch' || step.failures + step.successes > 0) model.add(now, step.failures, step.successes)
            if (step.via === 'batch') {
              expect(storage.recordBatch('c', step, step.window)).toEqual(model.sum(now, step.window))
            } else if (step.via === 'record') {
              for (let i = 0; i < step.failures; i++) storage.record('c', 'failure', 1, step.window)
              for (let i = 0; i < step.successes; i++) storage.record('c', 'success', 1, step.window)
            } else {
              for (let i = 0; i < step.failures; i++) storage.recordFailure('c', 1)
              for (let i = 0; i < step.successes; i++) storage.recordSuccess('c', 1)
            }
          }
        }
      }),
      { numRuns: 1000 },
    )
  })
})
