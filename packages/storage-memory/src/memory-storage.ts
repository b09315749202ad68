import type {
  Clock,
  EventLogEntry,
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  Storage,
  StorageCapabilities,
  WindowCounts,
} from '@breaker/core'
import { LeaseTable, StatusListeners } from '@breaker/core'
import { MemoryCircuit } from './memory-circuit.js'
import { resolveMemoryOptions } from './options.js'
import type { MemoryStorageOptions } from './options.js'

const CAPABILITIES: StorageCapabilities = Object.freeze({
  scope: 'process',
  atomic: true,
  cas: true,
  leases: true,
  subscribe: true,
  eventLog: true,
})

/** What one circuit currently holds in a `MemoryStorage`. */
export interface MemoryFootprint {
  /** Timestamps held for counting (successes + failures). */
  readonly outcomes: number
  /** Entries in the detailed event log (at most `maxEvents`). */
  readonly logEntries: number
  /** Bytes of the typed arrays behind both (excluding the small fixed object overhead). */
  readonly bytes: number
}

/**
 * In-process storage with exact windows: every outcome is a timestamp (epoch ms), and a
 * count is a binary search over them, inclusive of both ends (an outcome exactly `windowMs`
 * old still counts). Every method answers synchronously.
 *
 * Memory stays bounded: timestamps older than `maxWindowMs` (default 5 min) are dropped whenever
 * the circuit is written or counted, so a circuit holds 8 bytes per outcome of the last
 * `maxWindowMs`; the detailed event log keeps the newest `maxEvents` (17 bytes each).
 */
export class MemoryStorage implements Storage {
  readonly name = 'memory'
  readonly capabilities: StorageCapabilities = CAPABILITIES
  readonly #clock: Clock
  readonly #maxEvents: number
  readonly #maxWindowMs: number
  readonly #circuits = new Map<string, MemoryCircuit>()
  readonly #listeners = new StatusListeners()
  #leaseSequence = 0

  /** @throws ConfigurationError when an option is out of range, naming it and the value. */
  constructor(options?: MemoryStorageOptions) {
    const resolved = resolveMemoryOptions(options)
    this.#clock = resolved.clock
    this.#maxEvents = resolved.maxEvents
    this.#maxWindowMs = resolved.maxWindowMs
  }

  getStatus(circuit: string): StatusRecord | null {
    return this.#circuits.get(circuit)?.status ?? null
  }

  setStatus(circuit: string, record: StatusRecord): void {
    this.#write(this.#circuit(circuit), circuit, record)
  }

  compareAndSetStatus(circuit: string, expectedEpoch: number, record: StatusRecord): boolean {
    const state = this.#circuit(circuit)
    // Single-threaded and synchronous: nothing can run between this check and the write.
    if ((state.status?.epoch ?? 0) !== expectedEpoch) return false
    this.#write(state, circuit, record)
    return true
  }

  recordSuccess(circuit: string, durationMs: number): void {
    const state = this.#circuit(circuit)
    const now = this.#clock()
    const at = state.stamp(now)
    state.successes.push(at)
    state.log.push('success', at, durationMs)
    state.prune(now - this.#maxWindowMs)
  }

  recordFailure(circuit: string, durationMs: number): void {
    const state = this.#circuit(circuit)
    const now = this.#clock()
    const at = state.stamp(now)
    state.failures.push(at)
    state.log.push('failure', at, durationMs)
    state.prune(now - this.#maxWindowMs)
  }

  successCount(circuit: string, windowMs: number): number {
    const state = this.#circuits.get(circuit)
    if (state === undefined) return 0
    const now = this.#clock()
    state.prune(now - this.#maxWindowMs)
    return state.successes.countSince(now - (windowMs < this.#maxWindowMs ? windowMs : this.#maxWindowMs))
  }

  failureCount(circuit: string, windowMs: number): number {
    const state = this.#circuits.get(circuit)
    if (state === undefined) return 0
    const now = this.#clock()
    state.prune(now - this.#maxWindowMs)
    return state.failures.countSince(now - (windowMs < this.#maxWindowMs ? windowMs : this.#maxWindowMs))
  }

  /** Counts one outcome and answers both counts over the window, with one map lookup. */
  record(circuit: string, outcome: Outcome, durationMs: number, windowMs: number): WindowCounts {
    const state = this.#circuit(circuit)
    const now = this.#clock()
    const at = state.stamp(now)
    if (outcome === 'failure') state.failures.push(at)
    else state.successes.push(at)
    state.log.push(outcome, at, durationMs)
    state.prune(now - this.#maxWindowMs)
    const since = now - (windowMs < this.#maxWindowMs ? windowMs : this.#maxWindowMs)
    return { failures: state.failures.countSince(since), successes: state.successes.countSince(since) }
  }

  /** Counts a batch written at one instant (durations unknown: logged as 0 ms), then answers the counts. */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): WindowCounts {
    const state = this.#circuit(circuit)
    const now = this.#clock()
    // An empty batch writes nothing, so it must not move the stamp a stepped-back clock uses.
    const at = batch.failures + batch.successes > 0 ? state.stamp(now) : now
    state.failures.pushMany(at, batch.failures)
    state.successes.pushMany(at, batch.successes)
    // Only the newest maxEvents entries can survive in the log, so log no more than that.
    const logged = Math.min(batch.failures + batch.successes, this.#maxEvents)
    const loggedFailures = Math.max(0, logged - batch.successes)
    for (let i = 0; i < loggedFailures; i++) state.log.push('failure', at, 0)
    for (let i = 0; i < logged - loggedFailures; i++) state.log.push('success', at, 0)
    state.prune(now - this.#maxWindowMs)
    const since = now - (windowMs < this.#maxWindowMs ? windowMs : this.#maxWindowMs)
    return { failures: state.failures.countSince(since), successes: state.successes.countSince(since) }
  }

  acquireProbe(circuit: string, max: number, ttlMs: number): ProbeLease | null {
    return (this.#circuit(circuit).leases ??= new LeaseTable()).acquire(`${++this.#leaseSequence}`, this.#clock(), max, ttlMs)
  }

  subscribe(listener: StatusListener): () => void {
    return this.#listeners.add(listener)
  }

  eventLog(circuit: string, limit: number): EventLogEntry[] {
    return this.#circuits.get(circuit)?.log.newest(limit) ?? []
  }

  clear(circuit: string): void {
    this.#circuits.delete(circuit)
  }

  clearAll(): void {
    this.#circuits.clear()
  }

  /** What one circuit holds right now, to watch memory; zeros for a circuit never written. */
  footprint(circuit: string): MemoryFootprint {
    const state = this.#circuits.get(circuit)
    if (state === undefined) return { outcomes: 0, logEntries: 0, bytes: 0 }
    return {
      outcomes: state.failures.size + state.successes.size,
      logEntries: state.log.length,
      bytes: state.failures.bytes + state.successes.bytes + state.log.bytes,
    }
  }

  #circuit(circuit: string): MemoryCircuit {
    let state = this.#circuits.get(circuit)
    if (state === undefined) {
      state = new MemoryCircuit(this.#maxEvents)
      this.#circuits.set(circuit, state)
    }
    return state
  }

  #write(state: MemoryCircuit, circuit: string, record: StatusRecord): void {
    // A frozen copy of the four fields: callers cannot change what others read.
    const stored: StatusRecord = Object.freeze({
      status: record.status,
      openedAt: record.openedAt,
      epoch: record.epoch,
      updatedAt: record.updatedAt,
    })
    state.status = stored
    this.#listeners.notify(circuit, stored)
  }
}
