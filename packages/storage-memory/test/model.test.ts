import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '@breaker/storage-memory'

type Op =
  | { kind: 'advance'; ms: number }
  | { kind: 'write'; outcome: 'failure' | 'success'; via: 'single' | 'record'; window: number }
  | { kind: 'batch'; failures: number; successes: number; window: number }
  | { kind: 'count'; window: number }

const MAX_WINDOW = 30_000
const windows = fc.constantFrom(1, 999, 1_000, 10_000, 30_000, 60_000)
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: -20_000, max: 40_000 })) }),
  fc.record({
    kind: fc.constant('write' as const),
    outcome: fc.constantFrom('failure' as const, 'success' as const),
    via: fc.constantFrom('single' as const, 'record' as const),
    window: windows,
  }),
  fc.record({ kind: fc.constant('batch' as const), failures: fc.integer({ min: 0, max: 4 }), successes: fc.integer({ min: 0, max: 4 }), window: windows }),
  fc.record({ kind: fc.constant('count' as const), window: windows }),
)

/**
 * The obvious model: every outcome's stamp in a list, stamps never before the newest one, and
 * outcomes more than MAX_WINDOW older than the clock forgotten whenever the circuit is touched.
 */
class Model {
  events: Array<{ at: number; failure: boolean }> = []
  latest = Number.NEGATIVE_INFINITY
  logged: number[] = []
  add(now: number, failure: boolean) {
    this.latest = Math.max(now, this.latest)
    this.events.push({ at: this.latest, failure })
    this.logged.push(this.latest)
  }
  prune(now: number) {
    this.events = this.events.filter((event) => event.at >= now - MAX_WINDOW)
  }
  sum(now: number, windowMs: number) {
    this.prune(now)
    const since = now - Math.min(windowMs, MAX_WINDOW)
    const inside = this.events.filter((event) => event.at >= since)
    return { failures: inside.filter((e) => e.failure).length, successes: inside.filter((e) => !e.failure).length }
  }
}

describe('MemoryStorage against a model', () => {
  it('counts an outcome the stepped-back clock still sees, when it was not yet older than maxWindowMs', () => {
    let now = Date.UTC(2026, 0, 1)
    const storage = new MemoryStorage({ clock: () => now, maxWindowMs: MAX_WINDOW })
    storage.recordFailure('c', 1)
    now += 25_000
    storage.recordSuccess('c', 1)
    now -= 20_000 // step back: the failure is 5 s old again
    expect(storage.failureCount('c', 10_000)).toBe(1)
  })

  it('answers the same counts as a plain list of timestamps under any mix of writes, counts and clock moves', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        let now = Date.UTC(2026, 0, 1) + 123
        const storage = new MemoryStorage({ clock: () => now, maxWindowMs: MAX_WINDOW, maxEvents: 16 })
        const model = new Model()
        for (const step of ops) {
          if (step.kind === 'advance') now += step.ms
          else if (step.kind === 'count') {
            expect({ failures: storage.failureCount('c', step.window), successes: storage.successCount('c', step.window) }).toEqual(
              model.sum(now, step.window),
            )
          } else if (step.kind === 'batch') {
            for (let i = 0; i < step.failures; i++) model.add(now, true)
            for (let i = 0; i < step.successes; i++) model.add(now, false)
            model.prune(now)
            expect(storage.recordBatch('c', step, step.window)).toEqual(model.sum(now, step.window))
          } else {
            model.add(now, step.outcome === 'failure')
            model.prune(now)
            if (step.via === 'record') expect(storage.record('c', step.outcome, 1, step.window)).toEqual(model.sum(now, step.window))
            else if (step.outcome === 'failure') storage.recordFailure('c', 1)
            else storage.recordSuccess('c', 1)
          }
        }
        // The log holds the newest outcomes (pruned or not), newest first, stamped as the model stamped them.
        const log = storage.eventLog('c', 16)
        expect(log.map((entry) => entry.at)).toEqual(model.logged.slice(-16).reverse())
      }),
      { numRuns: 500 },
    )
  })
})
