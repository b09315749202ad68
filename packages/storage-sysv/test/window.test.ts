import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { SysVStorage } from '@breaker/storage-sysv'
import { destroyAll, freshPath, freshStorage } from './helpers.js'

afterEach(destroyAll)

type Op =
  | { kind: 'advance'; ms: number }
  | { kind: 'write'; by: 'a' | 'b'; failure: boolean; late: number }
  | { kind: 'clear' }
  | { kind: 'count'; windowMs: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 2_500 }), fc.constantFrom(1_000, 5_000, 30_000, 299_000, 400_000)) }),
  fc.record({
    kind: fc.constant('write' as const),
    by: fc.constantFrom('a' as const, 'b' as const),
    failure: fc.boolean(),
    // Only this process's own writes go back in time; another process shares the host clock.
    late: fc.constantFrom(0, 0, 1_500, 3_000, 5_000, 15_000),
  }),
  fc.record({ kind: fc.constant('clear' as const) }),
  fc.record({ kind: fc.constant('count' as const), windowMs: fc.constantFrom(1_000, 2_000, 3_000, 10_000, 60_000, 299_000, 300_000, 900_000) }),
)

describe('window counts kept between calls', () => {
  it('always equal a fresh walk over the shared buckets', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        let now = Date.UTC(2026, 0, 1)
        const path = freshPath()
        const a = freshStorage({ path, clock: () => now })
        const b = freshStorage({ path, clock: () => now })
        try {
          for (const step of ops) {
            if (step.kind === 'advance') now += step.ms
            else if (step.kind === 'clear') b.clear('c')
            else if (step.kind === 'write') {
              const writer = step.by === 'a' ? a : b
              const late = step.by === 'a' ? step.late : 0
              now -= late
              if (step.failure) writer.recordFailure('c', 1)
              else writer.recordSuccess('c', 1)
              now += late
            } else {
              // A handle opened now keeps nothing yet: it walks the buckets.
              const fresh = new SysVStorage({ path, clock: () => now })
              const expected = { failures: fresh.failureCount('c', step.windowMs), successes: fresh.successCount('c', step.windowMs) }
              void fresh.close()
              expect({ failures: a.failureCount('c', step.windowMs), successes: a.successCount('c', step.windowMs) }).toEqual(expected)
            }
          }
        } finally {
          a.destroy()
        }
      }),
      { numRuns: 200 },
    )
  })

  it('a clear by another handle is seen at the next count', () => {
    let now = Date.UTC(2026, 0, 1)
    const path = freshPath()
    const a = freshStorage({ path, clock: () => now })
    const b = freshStorage({ path, clock: () => now })
    for (let i = 0; i < 5; i++) {
      a.recordFailure('c', 1)
      now += 1_000
    }
    expect(a.failureCount('c', 60_000)).toBe(5)
    b.clear('c')
    expect(a.failureCount('c', 60_000)).toBe(0)
  })
})
