import { StorageError } from './errors.js'
import type { HookRunner } from './hooks.js'
import { guardDeadline } from './kit/deadline-guard.js'
import type { Storage } from './storage.js'
import { recordOutcome } from './storage-ops.js'
import type { CircuitHandle, MaybePromise, Outcome, WindowCounts } from './types.js'

/** The handle of a storage that offers no `bind`: the same calls, by name. */
class NamedHandle implements CircuitHandle {
  constructor(
    readonly storage: Storage,
    readonly circuit: string,
  ) {}
  getStatus() {
    return this.storage.getStatus(this.circuit)
  }
  recordSuccess(durationMs: number) {
    return this.storage.recordSuccess(this.circuit, durationMs)
  }
  record(outcome: Outcome, durationMs: number, windowMs: number): MaybePromise<WindowCounts> {
    return recordOutcome(this.storage, this.circuit, outcome, durationMs, windowMs)
  }
}

/**
 * A circuit's line to its storage: which storage is in use, the `storageTimeout` bound on every
 * answer it awaits (a synchronous answer is never timed), and the reporting of failures to the
 * `storageError` hook and channel.
 */
export class StorageIO {
  #storage: Storage
  /** The circuit's handle on the storage in use: the per-call methods. */
  handle!: CircuitHandle

  constructor(
    readonly circuit: string,
    readonly timeoutMs: number,
    readonly hooks: HookRunner,
    storage: Storage,
  ) {
    this.#storage = storage
    this.use(storage)
  }

  /** The storage in use. */
  get storage(): Storage {
    return this.#storage
  }

  /** Switches storage. */
  use(storage: Storage): void {
    this.#storage = storage
    this.handle = storage.bind?.(this.circuit) ?? new NamedHandle(storage, this.circuit)
  }

  /**
   * Bounds an answer by `storageTimeout`: a promise that has not settled by then rejects with
   * `StorageTimeoutError`. The operation is abandoned, not undone: a timed-out write may still
   * land, which is why a timed-out transition is held locally rather than assumed lost.
   */
  bound<T>(answer: MaybePromise<T>, operation: string): MaybePromise<T> {
    return guardDeadline(answer, this.timeoutMs, { storage: this.#storage.name, operation, circuit: this.circuit })
  }

  /** Wraps and reports a storage failure (hook and channel); answers the `StorageError`. */
  failed(operation: string, error: unknown): StorageError {
    const failure = StorageError.from(error, this.#storage.name, operation, this.circuit)
    this.hooks.storageError(failure, { circuit: this.circuit, operation })
    return failure
  }
}
