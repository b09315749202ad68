import { andThen } from '@breaker/core'
import type { MaybePromise, Outcome, ProbeLease, StatusRecord, Storage, WindowCounts } from '@breaker/core'
import type { Backend } from './config.js'

/** Contract methods a chain routes to its backends; also the `operation` of every event. */
export type Operation =
  | 'getStatus'
  | 'setStatus'
  | 'compareAndSetStatus'
  | 'recordSuccess'
  | 'recordFailure'
  | 'successCount'
  | 'failureCount'
  | 'record'
  | 'recordBatch'
  | 'acquireProbe'
  | 'eventLog'
  | 'clear'
  | 'clearAll'

type Loose = Record<string, (...args: unknown[]) => MaybePromise<unknown>>

const NO_ENTRIES = Object.freeze([]) as unknown as []

/**
 * Calls one contract method on one backend. Arguments are positional (`a`, `b`, `c` after the
 * circuit, in the contract's order) so the hot path allocates no argument object. Methods a
 * backend does not offer are emulated from the ones it must offer, and a final stateless
 * backend (`NullStorage`) answers the optional ones the way a storage that keeps nothing
 * would. A `SignalAware` backend gets `signal` as an extra last argument.
 */
export function invoke(
  backend: Backend,
  op: Operation,
  circuit: string,
  a: unknown,
  b: unknown,
  c: unknown,
  signal: AbortSignal | undefined,
  now: () => number,
): MaybePromise<unknown> {
  const s = backend.storage
  if (signal !== undefined) return invokeWithSignal(s, op, circuit, a, b, c, signal, now)
  switch (op) {
    case 'getStatus':
      return s.getStatus(circuit)
    case 'setStatus':
      return s.setStatus(circuit, a as StatusRecord)
    case 'recordSuccess':
      return s.recordSuccess(circuit, a as number)
    case 'recordFailure':
      return s.recordFailure(circuit, a as number)
    case 'successCount':
      return s.successCount(circuit, a as number)
    case 'failureCount':
      return s.failureCount(circuit, a as number)
    case 'record':
      if (s.record) return s.record(circuit, a as Outcome, b as number, c as number)
      return andThen(a === 'failure' ? s.recordFailure(circuit, b as number) : s.recordSuccess(circuit, b as number), () =>
        counts(s, circuit, c as number, undefined),
      )
    case 'recordBatch':
      if (s.recordBatch) return s.recordBatch(circuit, a as WindowCounts, b as number)
      return andThen(writeBatch(s, circuit, a as WindowCounts, undefined), () => counts(s, circuit, b as number, undefined))
    case 'compareAndSetStatus':
      // Only a stateless final backend lacks it (the chain offers CAS only then): it keeps
      // nothing to compare against, so the write "wins" as every write to it does.
      return s.compareAndSetStatus ? s.compareAndSetStatus(circuit, a as number, b as StatusRecord) : true
    case 'acquireProbe':
      return s.acquireProbe ? s.acquireProbe(circuit, a as number, b as number) : freeLease(now() + (b as number))
    case 'eventLog':
      return s.eventLog ? s.eventLog(circuit, a as number) : NO_ENTRIES
    case 'clear':
      return s.clear(circuit)
    case 'clearAll':
      return s.clearAll()
  }
}

// The rare path: same dispatch, the signal appended. Emulations pass it on to each call.
function invokeWithSignal(
  s: Storage,
  op: Operation,
  circuit: string,
  a: unknown,
  b: unknown,
  c: unknown,
  signal: AbortSignal,
  now: () => number,
): MaybePromise<unknown> {
  const loose = s as unknown as Loose
  const call = (method: string, ...args: unknown[]): MaybePromise<unknown> => loose[method]!.call(s, ...args, signal)
  switch (op) {
    case 'getStatus':
    case 'clear':
      return call(op, circuit)
    case 'clearAll':
      return call(op)
    case 'setStatus':
    case 'recordSuccess':
    case 'recordFailure':
    case 'successCount':
    case 'failureCount':
      return call(op, circuit, a)
    case 'record':
      if (s.record) return call(op, circuit, a, b, c)
      return andThen(call(a === 'failure' ? 'recordFailure' : 'recordSuccess', circuit, b), () =>
        counts(s, circuit, c as number, signal),
      )
    case 'recordBatch':
      if (s.recordBatch) return call(op, circuit, a, b)
      return andThen(writeBatch(s, circuit, a as WindowCounts, signal), () => counts(s, circuit, b as number, signal))
    case 'compareAndSetStatus':
      return s.compareAndSetStatus ? call(op, circuit, a, b) : true
    case 'acquireProbe':
      return s.acquireProbe ? call(op, circuit, a, b) : freeLease(now() + (b as number))
    case 'eventLog':
      return s.eventLog ? call(op, circuit, a) : NO_ENTRIES
  }
}

function counts(s: Storage, circuit: string, windowMs: number, signal: AbortSignal | undefined): MaybePromise<WindowCounts> {
  const loose = s as unknown as Loose
  const read = (method: string): MaybePromise<number> =>
    (signal === undefined ? loose[method]!.call(s, circuit, windowMs) : loose[method]!.call(s, circuit, windowMs, signal)) as MaybePromise<number>
  return andThen(read('failureCount'), (failures) => andThen(read('successCount'), (successes) => ({ failures, successes })))
}

/** Writes a batch one outcome at a time, for a backend without `recordBatch`. */
export function writeBatch(
  s: Storage,
  circuit: string,
  batch: WindowCounts,
  signal: AbortSignal | undefined,
): MaybePromise<void> {
  const loose = s as unknown as Loose
  const one = (method: string): MaybePromise<unknown> =>
    signal === undefined ? loose[method]!.call(s, circuit, 0) : loose[method]!.call(s, circuit, 0, signal)
  let pending: MaybePromise<unknown> = undefined
  for (let i = 0; i < batch.failures; i++) pending = andThen(pending, () => one('recordFailure'))
  for (let i = 0; i < batch.successes; i++) pending = andThen(pending, () => one('recordSuccess'))
  return andThen(pending, () => undefined)
}

// A permit from a storage that keeps nothing: every caller gets one, as with fail-open.
function freeLease(expiresAt: number): ProbeLease {
  return { id: 'null', expiresAt, release() {} }
}
