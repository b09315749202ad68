import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Circuit, Registry, isCircuitDependencyError, isCircuitOpenError } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { MapStorage } from './support/map-storage.js'

type Step =
  | { kind: 'success' }
  | { kind: 'failure' }
  | { kind: 'advance'; ms: number }
  | { kind: 'forceOpen' }
  | { kind: 'forceClose' }
  | { kind: 'reset' }
  | { kind: 'refuseWrites' }
  | { kind: 'isolate' }
  | { kind: 'release' }
  | { kind: 'depOpen' }
  | { kind: 'depClose' }

const FAILURES = 3
const WITHIN = 1000
const RESET_AFTER = 500
const SUCCESSES = 2
const BACKOFF_MAX = 1_600
const DEP_RESET = 800

/**
 * The reference: a plain description of the decided semantics, written without looking at how
 * Circuit does it. Windows start at the last transition; probes run one at a time here.
 */
class Model {
  state: 'closed' | 'open' | 'half_open' = 'closed'
  openedAt = 0
  since = 0
  events: Array<{ at: number; ok: boolean }> = []
  /** Reopenings since the last close: the reset delay is RESET_AFTER · 2^reopenings, capped. */
  reopenings = 0
  holds = 0
  depOpenedAt: number | undefined = undefined

  get delay() {
    return Math.min(RESET_AFTER * 2 ** this.reopenings, BACKOFF_MAX)
  }

  count(now: number, ok: boolean, windowMs: number) {
    return this.events.filter((e) => e.ok === ok && e.at >= now - windowMs).length
  }

  /** Answers 'ran', 'rejected' (open or held) or 'dependency' (the circuit it depends on is open). */
  call(now: number, ok: boolean): 'ran' | 'rejected' | 'dependency' {
    if (this.depOpenedAt !== undefined && now < this.depOpenedAt + DEP_RESET) return 'dependency'
    if (this.state === 'open') {
      if (this.holds > 0 || now < this.openedAt + this.delay) return 'rejected'
      this.state = 'half_open'
      this.since = now
    }
    this.events.push({ at: now, ok })
    if (this.state === 'half_open') {
      if (!ok) this.open(now)
      else if (this.count(now, true, Math.max(1, now - this.since)) >= SUCCESSES) this.close(now)
      return 'ran'
    }
    const windowMs = Math.min(WITHIN, Math.max(1, now - this.since))
    if (!ok && this.count(now, false, windowMs) >= FAILURES) this.open(now)
    return 'ran'
  }

  open(now: number) {
    this.reopenings = this.state === 'half_open' ? this.reopenings + 1 : 0
    this.state = 'open'
    this.openedAt = now
    this.since = now
  }

  close(now: number) {
    this.state = 'closed'
    this.since = now
    this.reopenings = 0
  }

  isolate(now: number) {
    this.holds++
    if (this.state !== 'open') {
      this.state = 'open'
      this.openedAt = now
      this.since = now
    }
  }

  release(now: number) {
    if (this.holds === 0) return
    if (--this.holds === 0) this.close(now)
  }
}

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'success' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'failure' as const }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 700 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constantFrom<Step>({ kind: 'forceOpen' }, { kind: 'forceClose' }, { kind: 'reset' }) },
  // From here on status writes are refused while reads answer what was last written (a replica
  // gone read-only): every transition becomes a local trip, which must behave the same.
  { weight: 1, arbitrary: fc.constant({ kind: 'refuseWrites' as const }) },
  { weight: 1, arbitrary: fc.constantFrom<Step>({ kind: 'isolate' }, { kind: 'release' }, { kind: 'depOpen' }, { kind: 'depClose' }) },
)

describe('state machine against a reference model', () => {
  it('agrees with the model on every state and every admission for random sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 80 }), async (steps) => {
        const clock = manualClock(1_000_000)
        const storage = new MapStorage({ clock })
        const registry = new Registry({ defaultStorage: storage })
        const dependency = new Circuit('payments', { registry, clock, jitter: 0, resetAfter: DEP_RESET })
        const circuit = new Circuit('model', {
          registry,
          clock,
          jitter: 0,
          threshold: { failures: FAILURES, within: WITHIN },
          resetAfter: RESET_AFTER,
          resetBackoff: { multiplier: 2, max: BACKOFF_MAX },
          successThreshold: SUCCESSES,
          dependsOn: ['payments'],
        })
        const holds: Array<{ release(): Promise<void> }> = []
        const model = new Model()
        for (const s of steps) {
          const now = clock()
          if (s.kind === 'advance') {
            clock.advance(s.ms)
            continue
          }
          if (s.kind === 'refuseWrites') {
            storage.faults.set('compareAndSetStatus', 'throw').set('setStatus', 'throw')
            continue
          }
          if (s.kind === 'forceOpen') {
            await circuit.forceOpen()
            if (model.state !== 'open') model.open(now)
          } else if (s.kind === 'forceClose') {
            await circuit.forceClose()
            if (model.state !== 'closed' && model.holds === 0) model.close(now)
          } else if (s.kind === 'reset') {
            await circuit.reset()
            if (model.holds === 0) model.close(now)
          } else if (s.kind === 'isolate') {
            holds.push(await circuit.isolate())
            model.isolate(now)
          } else if (s.kind === 'release') {
            await holds.shift()?.release()
            model.release(now)
          } else if (s.kind === 'depOpen') {
            await dependency.forceOpen()
            if (model.depOpenedAt === undefined) model.depOpenedAt = now
          } else if (s.kind === 'depClose') {
            await dependency.forceClose()
            model.depOpenedAt = undefined
          } else {
            const expected = model.call(now, s.kind === 'success')
            let actual: 'ran' | 'rejected' | 'dependency' = 'ran'
            try {
              await circuit.call(() => (s.kind === 'success' ? 'ok' : Promise.reject(new Error('down'))))
            } catch (error) {
              if (isCircuitOpenError(error)) actual = 'rejected'
              if (isCircuitDependencyError(error)) actual = 'dependency'
            }
            expect(actual).toBe(expected)
          }
          expect(circuit.state).toBe(model.state)
          // Every step happens a millisecond apart, as real calls do.
          clock.advance(1)
        }
      }),
      { numRuns: 300 },
    )
  })
})
