import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '../src/index.js'
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

const FAILURES = 3
const WITHIN = 1000
const RESET_AFTER = 500
const SUCCESSES = 2

/**
 * The reference: a plain description of the decided semantics, written without looking at how
 * Circuit does it. Windows start at the last transition; probes run one at a time here.
 */
class Model {
  state: 'closed' | 'open' | 'half_open' = 'closed'
  openedAt = 0
  since = 0
  events: Array<{ at: number; ok: boolean }> = []

  count(now: number, ok: boolean, windowMs: number) {
    return this.events.filter((e) => e.ok === ok && e.at >= now - windowMs).length
  }

  /** Answers 'ran' or 'rejected'. */
  call(now: number, ok: boolean): 'ran' | 'rejected' {
    if (this.state === 'open') {
      if (now < this.openedAt + RESET_AFTER) return 'rejected'
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
    this.state = 'open'
    this.openedAt = now
    this.since = now
  }

  close(now: number) {
    this.state = 'closed'
    this.since = now
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
)

describe('state machine against a reference model', () => {
  it('agrees with the model on every state and every admission for random sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const clock = manualClock(1_000_000)
        const storage = new MapStorage({ clock })
        const circuit = new Circuit('model', {
          storage,
          clock,
          registry: false,
          jitter: 0,
          threshold: { failures: FAILURES, within: WITHIN },
          resetAfter: RESET_AFTER,
          successThreshold: SUCCESSES,
        })
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
            if (model.state !== 'closed') model.close(now)
          } else if (s.kind === 'reset') {
            await circuit.reset()
            model.close(now)
          } else {
            const expected = model.call(now, s.kind === 'success')
            let actual: 'ran' | 'rejected' = 'ran'
            try {
              await circuit.call(() => (s.kind === 'success' ? 'ok' : Promise.reject(new Error('down'))))
            } catch (error) {
              if (isCircuitOpenError(error)) actual = 'rejected'
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
