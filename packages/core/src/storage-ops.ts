import { andThen } from './maybe.js'
import type { Storage } from './storage.js'
import type { MaybePromise, Outcome, WindowCounts } from './types.js'

/** Both counts over the window, from the two count methods every storage has. */
export function readCounts(storage: Storage, circuit: string, windowMs: number): MaybePromise<WindowCounts> {
  return andThen(storage.failureCount(circuit, windowMs), (failures) =>
    andThen(storage.successCount(circuit, windowMs), (successes) => ({ failures, successes })),
  )
}

/** One outcome through the required methods: write, then read both counts. */
export function writeThenCount(
  storage: Storage,
  circuit: string,
  outcome: Outcome,
  durationMs: number,
  windowMs: number,
): MaybePromise<WindowCounts> {
  const written = outcome === 'failure' ? storage.recordFailure(circuit, durationMs) : storage.recordSuccess(circuit, durationMs)
  return andThen(written, () => readCounts(storage, circuit, windowMs))
}

/** A batch through the required methods: one write per outcome, then read both counts. */
export function writeManyThenCount(storage: Storage, circuit: string, batch: WindowCounts, windowMs: number): MaybePromise<WindowCounts> {
  let written: MaybePromise<void> = undefined
  for (let i = 0; i < batch.failures; i++) written = andThen(written, () => storage.recordFailure(circuit, 0))
  for (let i = 0; i < batch.successes; i++) written = andThen(written, () => storage.recordSuccess(circuit, 0))
  return andThen(written, () => readCounts(storage, circuit, windowMs))
}

/** Counts one outcome and answers the window's counts: the storage's own `record` (one trip) when it has one. */
export function recordOutcome(
  storage: Storage,
  circuit: string,
  outcome: Outcome,
  durationMs: number,
  windowMs: number,
): MaybePromise<WindowCounts> {
  return storage.record
    ? storage.record(circuit, outcome, durationMs, windowMs)
    : writeThenCount(storage, circuit, outcome, durationMs, windowMs)
}

/** Counts a batch and answers the window's counts: the storage's own `recordBatch` when it has one. */
export function recordMany(storage: Storage, circuit: string, batch: WindowCounts, windowMs: number): MaybePromise<WindowCounts> {
  return storage.recordBatch ? storage.recordBatch(circuit, batch, windowMs) : writeManyThenCount(storage, circuit, batch, windowMs)
}
