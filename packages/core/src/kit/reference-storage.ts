import { LeaseTable } from '../lease-table.js'
import { StatusListeners } from '../status-listeners.js'
import type { Storage } from '../storage.js'
import type {
  Clock,
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  StorageCapabilities,
  WindowCounts,
} from '../types.js'
import { saturatingAdd } from './numbers.js'
import { IdleRelease } from './idle-release.js'

/** Outcomes counted in one millisecond-stamped slice of time. */
interface Tally {
  at: number
  failures: number
  successes: number
}

/** Everything kept for one circuit. */
interface Entry {
  status: StatusRecord | null
  tallies: Tally[]
  leases: LeaseTable | undefined
}

/** Options of {@link ReferenceStorage}. */
export interface ReferenceStorageOptions {
  /** Epoch ms clock. Default `Date.now`. */
  clock?: Clock
  /** Oldest outcome kept (ms); counts over longer windows see only this much. Default 3 600 000. */
  retainFor?: number
}

/**
 * A small in-process storage that is correct before it is fast: the one to copy when writing a
 * backend. It passes `@breaker/storage-test-suite` with every capability, keeps each outcome
 * batch as one tally (so counts of any size cost O(1) to record), saturates instead of
 * overflowing, and releases a circuit's entry once nobody retains the name and nothing in it
 * is still needed.
 */
export class ReferenceStorage implements Storage {
  readonly name: string = 'reference'
  readonly capabilities: StorageCapabilities = { scope: 'process', atomic: true, cas: true, leases: true, subscribe: true }
  readonly #entries = new Map<string, Entry>()
  readonly #listeners = new StatusListeners()
  readonly #clock: Clock
  readonly #retainFor: number
  readonly #idle: IdleRelease<Entry>
  #leaseSequence = 0

  constructor(options: ReferenceStorageOptions = {}) {
    this.#clock = options.clock ?? Date.now
    this.#retainFor = options.retainFor ?? 3_600_000
    this.#idle = new IdleRelease(this.#entries, (entry) => this.#needed(entry))
  }

  getStatus(circuit: string): StatusRecord | null {
    return this.#entries.get(circuit)?.status ?? null
  }
  setStatus(circuit: string, record: StatusRecord): void {
    this.#entry(circuit).status = record
    this.#listeners.notify(circuit, record)
  }
  compareAndSetStatus(circuit: string, expectedEpoch: number, record: StatusRecord): boolean {
    if ((this.getStatus(circuit)?.epoch ?? 0) !== expectedEpoch) return false
    this.setStatus(circuit, record)
    return true
  }
  recordSuccess(circuit: string): void {
    this.#add(circuit, 0, 1)
  }
  recordFailure(circuit: string): void {
    this.#add(circuit, 1, 0)
  }
  successCount(circuit: string, windowMs: number): number {
    return this.#counts(circuit, windowMs).successes
  }
  failureCount(circuit: string, windowMs: number): number {
    return this.#counts(circuit, windowMs).failures
  }
  record(circuit: string, outcome: Outcome, _durationMs: number, windowMs: number): WindowCounts {
    this.#add(circuit, outcome === 'failure' ? 1 : 0, outcome === 'success' ? 1 : 0)
    return this.#counts(circuit, windowMs)
  }
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): WindowCounts {
    this.#add(circuit, batch.failures, batch.successes)
    return this.#counts(circuit, windowMs)
  }
  acquireProbe(circuit: string, max: number, ttlMs: number): ProbeLease | null {
    const entry = this.#entry(circuit)
    return (entry.leases ??= new LeaseTable()).acquire(`${++this.#leaseSequence}`, this.#clock(), max, ttlMs)
  }
  subscribe(listener: StatusListener): () => void {
    return this.#listeners.add(listener)
  }
  retain(circuit: string): () => void {
    return this.#idle.retain(circuit)
  }
  clear(circuit: string): void {
    this.#entries.delete(circuit)
    this.#listeners.resync(circuit)
  }
  clearAll(): void {
    this.#entries.clear()
    this.#idle.clear()
    this.#listeners.resync()
  }

  /** How many circuits this storage holds anything for (to check that idle ones are released). */
  get size(): number {
    return this.#entries.size
  }

  #entry(circuit: string): Entry {
    let entry = this.#entries.get(circuit)
    if (!entry) {
      this.#entries.set(circuit, (entry = { status: null, tallies: [], leases: undefined }))
      this.#idle.created()
    }
    return entry
  }

  #add(circuit: string, failures: number, successes: number): void {
    const now = this.#clock()
    const tallies = this.#entry(circuit).tallies
    const last = tallies[tallies.length - 1]
    if (last && last.at === now) {
      last.failures = saturatingAdd(last.failures, failures)
      last.successes = saturatingAdd(last.successes, successes)
    } else tallies.push({ at: now, failures, successes })
    this.#prune(tallies, now)
  }

  #counts(circuit: string, windowMs: number): WindowCounts {
    const now = this.#clock()
    let failures = 0
    let successes = 0
    for (const t of this.#entries.get(circuit)?.tallies ?? []) {
      if (now - t.at > windowMs) continue
      failures = saturatingAdd(failures, t.failures)
      successes = saturatingAdd(successes, t.successes)
    }
    return { failures, successes }
  }

  #prune(tallies: Tally[], now: number): void {
    let drop = 0
    while (drop < tallies.length && now - tallies[drop]!.at > this.#retainFor) drop++
    if (drop > 0) tallies.splice(0, drop)
  }

  /** Whether an entry holds something still needed: counts in the kept window, a lease, an opening. */
  #needed(entry: Entry): boolean {
    const now = this.#clock()
    this.#prune(entry.tallies, now)
    const open = entry.status !== null && entry.status.status !== 'closed'
    return open || entry.tallies.length > 0 || (entry.leases?.held(now) ?? 0) > 0
  }
}
