import { StatusListeners } from './status-listeners.js'
import type { Storage } from './storage.js'
import { readCounts, writeManyThenCount, writeThenCount } from './storage-ops.js'
import type {
  MaybePromise,
  Outcome,
  StatusRecord,
  StorageCapabilities,
  WindowCounts,
} from './types.js'

/**
 * A starting point for a custom backend: implement the required methods and inherit
 * `record` and `recordBatch` (write, then read the counts), plus a listener set for
 * backends that push status changes. Every default stays synchronous when the methods
 * it builds on are.
 */
export abstract class BaseStorage implements Storage {
  abstract readonly name: string
  abstract readonly capabilities: StorageCapabilities

  abstract getStatus(circuit: string): MaybePromise<StatusRecord | null>
  abstract setStatus(circuit: string, record: StatusRecord): MaybePromise<void>
  abstract recordSuccess(circuit: string, durationMs: number): MaybePromise<void>
  abstract recordFailure(circuit: string, durationMs: number): MaybePromise<void>
  abstract successCount(circuit: string, windowMs: number): MaybePromise<number>
  abstract failureCount(circuit: string, windowMs: number): MaybePromise<number>
  abstract clear(circuit: string): MaybePromise<void>
  abstract clearAll(): MaybePromise<void>

  /** Listeners registered through `subscribe`; a backend that pushes calls `listeners.notify`. */
  protected readonly listeners = new StatusListeners()

  /** Counts one outcome, then answers both counts over the window. */
  record(circuit: string, outcome: Outcome, durationMs: number, windowMs: number): MaybePromise<WindowCounts> {
    return writeThenCount(this, circuit, outcome, durationMs, windowMs)
  }

  /** Counts a batch one outcome at a time (backends override with one trip), then answers the counts. */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): MaybePromise<WindowCounts> {
    return writeManyThenCount(this, circuit, batch, windowMs)
  }

  /** Both counts over the window. */
  protected counts(circuit: string, windowMs: number): MaybePromise<WindowCounts> {
    return readCounts(this, circuit, windowMs)
  }
}
