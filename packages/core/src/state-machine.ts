import type { CircuitOpenError } from './errors.js'
import { resetDelay } from './jitter.js'
import type { ResolvedThreshold } from './config.js'
import type { ResetBackoff } from './options.js'
import type { CircuitState, StatusRecord, WindowCounts } from './types.js'

/** The status of a circuit never written anywhere: closed, epoch 0. */
export const CLOSED: StatusRecord = Object.freeze({ status: 'closed', openedAt: null, epoch: 0, updatedAt: 0 })

/** What deciding the reset delay of an opening needs. */
export interface Timing {
  /** Circuit name (the jitter draw hashes it, so every instance agrees). */
  readonly name: string
  /** Longest reset delay (ms). */
  readonly resetAfter: number
  /** Spread of the delay, in [0, 1]. */
  readonly jitter: number
  /** Growth of the delay per reopening, when configured. */
  readonly backoff: ResetBackoff | undefined
}

/** Closed: calls run and their outcomes are counted. */
export interface ClosedPhase {
  readonly state: 'closed'
  readonly record: StatusRecord
  /** True when storage refused the write that closed it: this instance holds it on its own. */
  readonly local: boolean
}

/** Open: calls are rejected until `halfOpenAt`. */
export interface OpenPhase {
  readonly state: 'open'
  readonly record: StatusRecord
  /** When a probe may go through (epoch ms): `openedAt` plus this opening's jittered delay. */
  readonly halfOpenAt: number
  /** True for a local trip: storage refused the write, so this instance holds it on its own. */
  readonly local: boolean
  /** Held open by `isolate()`: no probe goes through until every hold is released. */
  readonly held: boolean
  /** The rejection error of this opening, made once and reused (it carries no stack). */
  error: CircuitOpenError | undefined
}

/** Half-open: up to `halfOpenCalls` probes in flight decide whether it closes or reopens. */
export interface HalfOpenPhase {
  readonly state: 'half_open'
  readonly record: StatusRecord
  readonly local: boolean
  /** Probe permits this instance holds in this phase (when the storage has no leases). */
  probes: number
  /** The "every permit taken" rejection of this phase, made once and reused. */
  error: CircuitOpenError | undefined
}

/**
 * One circuit's phase: the status it acts on, plus what belongs to that status alone (the reset
 * delay of an opening, the probe permits of a half-open). A new epoch is a new phase object, so
 * per-epoch state starts afresh without any epoch bookkeeping.
 */
export type Phase = ClosedPhase | OpenPhase | HalfOpenPhase

/** What to do with a call in a phase at `now`. */
export type Admission = 'run' | 'probe' | 'reject' | 'half_open'

/** The phase of `record`; `local` marks a transition storage did not accept. */
export function phaseOf(record: StatusRecord, local: boolean, timing: Timing): Phase {
  if (record.status === 'closed') return { state: 'closed', record, local }
  if (record.status === 'half_open') return { state: 'half_open', record, local, probes: 0, error: undefined }
  if ((record.holds ?? 0) > 0) return { state: 'open', record, halfOpenAt: Infinity, local, held: true, error: undefined }
  const delay = resetDelay(timing.name, record.epoch, baseDelay(timing, record.backoff ?? 0), timing.jitter)
  return { state: 'open', record, halfOpenAt: (record.openedAt ?? 0) + delay, local, held: false, error: undefined }
}

/** The reset delay before jitter: `resetAfter`, grown by `resetBackoff` for each reopening. */
export function baseDelay(timing: Timing, reopenings: number): number {
  const backoff = timing.backoff
  if (backoff === undefined || reopenings === 0) return timing.resetAfter
  return Math.min(timing.resetAfter * backoff.multiplier ** reopenings, backoff.max)
}

/**
 * The phase after reading `record` from storage (or having it pushed) while in `current`:
 * `current` itself when nothing changed, so its permits and delay carry on; `current` too when
 * it is a local trip that the read does not outrank (storage refused the write, so an older
 * or equal epoch read back says nothing new). Otherwise storage is the truth — even when it went
 * backwards (a lost Redis): holding a newer epoch would make every later compare-and-set fail.
 */
export function afterRead(current: Phase, record: StatusRecord, timing: Timing): Phase {
  const known = current.record
  if (record === known) return current
  if (record.epoch === known.epoch && record.status === known.status) return current
  if (current.local && record.epoch <= known.epoch) return current
  return phaseOf(record, false, timing)
}

/** Admission of a call at `now` (epoch ms). */
export function admit(phase: Phase, now: number): Admission {
  if (phase.state === 'closed') return 'run'
  if (phase.state === 'half_open') return 'probe'
  return now < phase.halfOpenAt ? 'reject' : 'half_open'
}

/** Takes a local probe permit if fewer than `max` are held in this phase. */
export function takeProbe(phase: HalfOpenPhase, max: number): boolean {
  if (phase.probes >= max) return false
  phase.probes++
  return true
}

/** Gives a local probe permit back to the phase it was taken in. */
export function returnProbe(phase: HalfOpenPhase): void {
  if (phase.probes > 0) phase.probes--
}

/**
 * The record a transition from `from` to `to` at `now` writes: one epoch on. With `backoff`,
 * a reopening from half_open counts one more reopening, half_open keeps the count, and anything
 * else starts again from 0. Isolation holds carry over.
 */
export function nextRecord(from: StatusRecord, to: CircuitState, now: number, backoff = false): StatusRecord {
  const record: { -readonly [K in keyof StatusRecord]: StatusRecord[K] } = {
    status: to,
    openedAt: to === 'open' ? now : to === 'half_open' ? from.openedAt : null,
    epoch: from.epoch + 1,
    updatedAt: now,
  }
  const reopenings = !backoff ? 0 : to === 'half_open' ? (from.backoff ?? 0) : to === 'open' && from.status === 'half_open' ? (from.backoff ?? 0) + 1 : 0
  if (reopenings > 0) record.backoff = reopenings
  if ((from.holds ?? 0) > 0) record.holds = from.holds!
  return record
}

/** The record `isolate()` (`+1`) or a release (`-1`) writes: open while holds remain, closed after the last. */
export function heldRecord(from: StatusRecord, change: 1 | -1, now: number): StatusRecord {
  const holds = Math.max(0, (from.holds ?? 0) + change)
  if (holds === 0) return { status: 'closed', openedAt: null, epoch: from.epoch + 1, updatedAt: now }
  const openedAt = from.status === 'open' && from.openedAt !== null ? from.openedAt : now
  return { ...from, status: 'open', openedAt, epoch: from.epoch + 1, updatedAt: now, holds }
}

/** True when `counts` cross `threshold`: absolute failures, or the failure rate once `minimumCalls` were seen. */
export function isOver(threshold: ResolvedThreshold, counts: WindowCounts): boolean {
  if ('failures' in threshold) return counts.failures >= threshold.failures
  const calls = counts.failures + counts.successes
  return calls >= threshold.minimumCalls && counts.failures / calls >= threshold.failureRate
}

/**
 * The threshold window at `now`: `within`, but never reaching back past the last transition,
 * so the failures that tripped a circuit cannot trip it again right after it closes.
 */
export function windowAt(within: number, phase: Phase, now: number): number {
  return Math.min(within, Math.max(1, now - phase.record.updatedAt))
}

/** After a counted failure of a call admitted in `admitted`: open when it trips, else stay. */
export function afterFailure(current: Phase, admitted: Phase, threshold: ResolvedThreshold, counts: WindowCounts | undefined): 'open' | undefined {
  // Outcomes of calls admitted under another phase describe a state that no longer holds.
  if (current !== admitted) return undefined
  if (current.state === 'half_open') return 'open'
  if (current.state === 'closed' && counts !== undefined && isOver(threshold, counts)) return 'open'
  return undefined
}

/** After a probe success: close once `successes` since half_open began reach `successThreshold`. */
export function afterProbeSuccess(current: Phase, admitted: Phase, successes: number, successThreshold: number): 'closed' | undefined {
  if (current !== admitted || current.state !== 'half_open') return undefined
  return successes >= successThreshold ? 'closed' : undefined
}
