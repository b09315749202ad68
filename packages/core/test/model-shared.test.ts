import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Circuit, isCircuitOpenError } from '../src/index.js'
import { manualClock } from './support/clock.js'
import { MapStorage } from './support/map-storage.js'

type Step =
  | { kind: 'bSuccess' }
  | { kind: 'bFailure' }
  | { kind: 'aCall' }
  | { kind: 'advance'; ms: number }
  | { kind: 'mute' }
  | { kind: 'unmute' }
  | { kind: 'resync' }

const FAILURES = 2
const WITHIN = 1000
const RESET_AFTER = 300
const TTL = 200

type State = 'closed' | 'open' | 'half_open'
interface View {
  state: State
  epoch: number
  openedAt: number
}

/**
 * Two instances on one storage. B reads storage on every call and counts outcomes; A keeps a
 * status cache of TTL ms (on the monotonic clock) that pushes refresh, a muted push stream
 * leaves stale, and a resync notice expires. A's calls fail with an error that counts as
 * nothing, so A only probes admission (and may move an open circuit to half_open).
 */
class Model {
  truth: View = { state: 'closed', epoch: 0, openedAt: 0 }
  since = 0
  failures: number[] = []
  successesSince: number[] = []
  cached: View = { ...this.truth }
  readAt = -Infinity
  muted = false

  move(to: State, now: number) {
    this.truth = { state: to, epoch: this.truth.epoch + 1, openedAt: to === 'open' ? now : this.truth.openedAt }
    this.since = now
    this.successesSince = []
    if (!this.muted) this.adopt(now)
  }
  adopt(now: number) {
    this.cached = { ...this.truth }
    this.readAt = now
  }

  b(now: number, ok: boolean): 'ran' | 'rejected' {
    if (this.truth.state === 'open') {
      if (now < this.truth.openedAt + RESET_AFTER) return 'rejected'
      this.move('half_open', now)
    }
    if (this.truth.state === 'half_open') {
      if (!ok) this.move('open', now)
      else this.move('closed', now)
      return 'ran'
    }
    if (ok) return 'ran'
    this.failures.push(now)
    const from = now - Math.min(WITHIN, Math.max(1, now - this.since))
    if (this.failures.filter((at) => at >= from).length >= FAILURES) this.move('open', now)
    return 'ran'
  }

  a(now: number): 'ran' | 'rejected' {
    if (now - this.readAt >= TTL) this.adopt(now)
    const view = this.cached
    if (view.state !== 'open') return 'ran'
    if (now < view.openedAt + RESET_AFTER) return 'rejected'
    if (view.epoch === this.truth.epoch) {
      this.move('half_open', now)
      this.adopt(now) // A wrote it: A's cache holds what it wrote
      return 'ran'
    }
    // A's compare-and-set loses to what storage holds; A adopts it and does not move again.
    this.adopt(now)
    return this.truth.state === 'open' ? 'rejected' : 'ran'
  }
}

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Step>({ kind: 'bSuccess' }, { kind: 'bFailure' }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'aCall' as const }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 250 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 3, arbitrary: fc.constantFrom<Step>({ kind: 'mute' }, { kind: 'unmute' }, { kind: 'resync' }) },
)

const ignored = new Error('not a failure')

describe('shared state against a reference model: cache expiry, pushes and resync notices', () => {
  // The status cache runs on performance.now(); the test moves it with the wall clock.
  beforeEach(() => void vi.useFakeTimers({ toFake: ['performance'] }))
  afterEach(() => void vi.useRealTimers())

  it('admits A and B as the model says, for random sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 80 }), async (steps) => {
        const clock = manualClock(1_000_000)
        const tick = (ms: number) => {
          clock.advance(ms)
          vi.advanceTimersByTime(ms)
        }
        const storage = new MapStorage({ clock, subscribe: true })
        const common = { storage, clock, registry: false as const, jitter: 0, resetAfter: RESET_AFTER, threshold: { failures: FAILURES, within: WITHIN } }
        const a = new Circuit('shared', { ...common, stateCacheTtl: TTL, isFailure: (e) => e !== ignored })
        const b = new Circuit('shared', common)
        const model = new Model()
        try {
          for (const s of steps) {
            const now = clock()
            if (s.kind === 'advance') {
              tick(s.ms)
              continue
            }
            if (s.kind === 'mute' || s.kind === 'unmute') {
              model.muted = storage.mutePushes = s.kind === 'mute'
            } else if (s.kind === 'resync') {
              storage.resync()
              model.readAt = -Infinity
            } else {
              const expected = s.kind === 'aCall' ? model.a(now) : model.b(now, s.kind === 'bSuccess')
              const circuit = s.kind === 'aCall' ? a : b
              let actual: 'ran' | 'rejected' = 'ran'
              try {
                await circuit.call(() => (s.kind === 'bSuccess' ? 'ok' : Promise.reject(s.kind === 'aCall' ? ignored : new Error('down'))))
              } catch (error) {
                if (isCircuitOpenError(error)) actual = 'rejected'
              }
              expect(actual, `${s.kind} at step ${steps.indexOf(s)}`).toBe(expected)
            }
            expect(storage.statuses.get('shared')?.status ?? 'closed').toBe(model.truth.state)
            tick(1)
          }
        } finally {
          await a.dispose()
          await b.dispose()
        }
      }),
      { numRuns: 500 },
    )
  })
})
