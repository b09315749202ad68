import type { CircuitHandle, Outcome, StatusRecord, WindowCounts } from '@breaker/core'
import type { BucketCircuit } from './bucket-circuit.js'

/** What a handle needs of its storage, as functions over the storage's private state. */
export interface BucketInternals {
  /** The circuit's entry, if it has one. */
  peek(circuit: string): BucketCircuit | undefined
  /** The circuit's entry, created when missing. */
  entry(circuit: string): BucketCircuit
  /** The current epoch second. */
  second(): number
  /** Counts one outcome into `state` and answers both counts over the window. */
  record(state: BucketCircuit, outcome: Outcome, windowMs: number): WindowCounts
}

/**
 * One circuit's handle on a `BucketMemoryStorage` (`bind`): it keeps the circuit's entry, so a
 * call reads the status and counts its outcome without a lookup by name. An entry the storage
 * dropped (clear, clearAll, idle release) is marked, and the handle looks the name up again.
 */
export class BucketHandle implements CircuitHandle {
  #state: BucketCircuit | undefined

  constructor(
    private readonly internals: BucketInternals,
    private readonly circuit: string,
  ) {}

  getStatus(): StatusRecord | null {
    const state = this.#state
    if (state !== undefined && !state.dropped) return state.status
    // Found, not created: reading a circuit never written keeps nothing.
    return (this.#state = this.internals.peek(this.circuit))?.status ?? null
  }

  recordSuccess(): void {
    this.#live().add(this.internals.second(), 0, 1)
  }

  record(outcome: Outcome, _durationMs: number, windowMs: number): WindowCounts {
    return this.internals.record(this.#live(), outcome, windowMs)
  }

  #live(): BucketCircuit {
    const state = this.#state
    return state !== undefined && !state.dropped ? state : (this.#state = this.internals.entry(this.circuit))
  }
}
