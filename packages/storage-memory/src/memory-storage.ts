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
import { IdleRelease, MAX_COUNT, copyStatus } from '@breaker/core/kit'
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
 * `maxWindowMs`; the detailed event log keeps the newest `maxEvents` (17 bytes each). A batch
 * (`recordBatch`, an import) is one entry whatever its size.
 *
 * Circuits are forgotten: once no live circuit retains a name (`retain`) and its entry holds no
 * outcome inside the longest window asked about, no lease and no open or half-open status, the
 * entry (event log included) is dropped — so per-tenant or per-host names do not grow memory.
 */
export class MemoryStorage implements Storage {
  readonly name = 'memory'
  readonly capabilities: StorageCapabilities = CAPABILITIES
  readonly #clock: Clock
  readonly #maxEvents: number
  readonly #maxWindowMs: number
  readonly #circuits = new Map<string, MemoryCircuit>()
  readonly #listeners = new StatusListeners()
  readonly #idle = new IdleRelease(this.#circuits, (state) => this.#needed(state))
  // Longest window any count asked about (ms), capped at maxWindowMs: older outcomes are not needed.
  #longestWindowMs = 0
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
    if (windowMs > this.#longestWindowMs) this.#seeWindow(windowMs)
    const state = this.#circuits.get(circuit)
    if (state === undefined) return 0
    const now = this.#clock()
    state.prune(now - this.#maxWindowMs)
    return state.successes.countSince(now - (windowMs < this.#maxWindowMs ? windowMs : this.#maxWindowMs))
  }

  failureCount(circuit: string, windowMs: number): number {
    if (windowMs > this.#longestWindowMs) this.#seeWindow(windowMs)
    const state = this.#circuits.get(circuit)
    if (state === undefined) return 0
    const now = this.#clock()
    state.prune(now - this.#maxWindowMs)
    return state.failures.countSince(now - (windowMs < this.#maxWindowMs ? windowMs : this.#maxWindowMs))
  }

  /** Counts one outcome and answers both counts over the window, with one map lookup. */
  record(circuit: string, outcome: Outcome, durationMs: number, windowMs: number): WindowCounts {
    if (windowMs > this.#longestWindowMs) this.#seeWindow(windowMs)
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

  /**
   * Counts a batch written at one instant as one entry, O(1) in memory whatever its size
   * (durations unknown: logged as 0 ms, at most `maxEvents` of them), then answers the counts.
   * Counts are read as whole numbers >= 0 (anything else counts as 0) and saturate at `MAX_COUNT`.
   */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): WindowCounts {
    if (windowMs > this.#longestWindowMs) this.#seeWindow(windowMs)
    const failures = whole(batch.failures)
    const successes = whole(batch.successes)
    const state = this.#circuit(circuit)
    const now = this.#clock()
    // An empty batch writes nothing, so it must not move the stamp a stepped-back clock uses.
    const at = failures + successes > 0 ? state.stamp(now) : now
    state.failures.pushMany(at, failures)
    state.successes.pushMany(at, successes)
    // Only the newest maxEvents entries can survive in the log, so log no more than that.
    const logged = Math.min(failures + successes, this.#maxEvents)
    const loggedFailures = Math.max(0, logged - successes)
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

  /**
   * Marks `circuit` in use by a live circuit (core calls this at construction); answers the
   * release (idempotent). Once released, the entry is dropped as soon as it holds nothing needed.
   */
  retain(circuit: string): () => void {
    return this.#idle.retain(circuit)
  }

  /** Forgets one circuit; subscribers hear `{ resync: true, circuit }` and re-read it. */
  clear(circuit: string): void {
    this.#circuits.delete(circuit)
    this.#listeners.resync(circuit)
  }

  /** Forgets every circuit; subscribers hear `{ resync: true }` and re-read. */
  clearAll(): void {
    this.#circuits.clear()
    this.#idle.clear()
    this.#listeners.resync()
  }

  /** How many circuits this storage holds an entry for (released idle ones are not counted). */
  get size(): number {
    return this.#circuits.size
  }

  /** What one circuit holds right now, to watch memory; zeros for a circuit never written. */
  footprint(circuit: string): MemoryFootprint {
    const state = this.#circuits.get(circuit)
    if (state === undefined) return { outcomes: 0, logEntries: 0, bytes: 0 }
    return {
      outcomes: state.failures.count + state.successes.count,
      logEntries: state.log.length,
      bytes: state.failures.bytes + state.successes.bytes + state.log.bytes,
    }
  }

  #circuit(circuit: string): MemoryCircuit {
    let state = this.#circuits.get(circuit)
    if (state === undefined) {
      state = new MemoryCircuit(this.#maxEvents)
      this.#circuits.set(circuit, state)
      this.#idle.created()
    }
    return state
  }

  #seeWindow(windowMs: number): void {
    this.#longestWindowMs = windowMs < this.#maxWindowMs ? windowMs : this.#maxWindowMs
  }

  #needed(state: MemoryCircuit): boolean {
    if (state.status !== null && state.status.status !== 'closed') return true
    const now = this.#clock()
    // Asking for 0 permits only drops the lapsed ones: a holder that never released does not pin the entry.
    if (state.leases !== undefined && state.leases.held(now) > 0) return true
    // The newest outcome is still inside the longest window asked about (windows include their start).
    const newest = Math.max(state.failures.newest, state.successes.newest)
    return newest >= now - this.#longestWindowMs
  }

  #write(state: MemoryCircuit, circuit: string, record: StatusRecord): void {
    // A frozen copy of the four fields: callers cannot change what others read.
    const stored = copyStatus(record)
    state.status = stored
    this.#listeners.notify(circuit, stored)
  }
}

/** A batch count as kept: a whole number from 0 to `MAX_COUNT` (NaN and negatives are 0). */
function whole(count: number): number {
  if (!(count > 0)) return 0
  return count < MAX_COUNT ? Math.floor(count) : MAX_COUNT
}
