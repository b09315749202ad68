import type {
  Clock,
  Outcome,
  ProbeLease,
  StatusListener,
  StatusRecord,
  Storage,
  StorageCapabilities,
  WindowCounts,
} from '@breaker/core'
import { LeaseTable, StatusListeners } from '@breaker/core'
import { BucketCircuit } from './bucket-circuit.js'
import { BYTES_PER_BUCKET } from './bucket-ring.js'
import { resolveBucketOptions } from './options.js'
import { currentSecond } from './second-ticker.js'
import type { BucketMemoryStorageOptions } from './options.js'

const CAPABILITIES: StorageCapabilities = Object.freeze({
  scope: 'process',
  atomic: true,
  cas: true,
  leases: true,
  subscribe: true,
})

/**
 * The recommended in-process storage: per circuit a ring of `bucketCount` one-second buckets
 * of typed-array counters (12 bytes a bucket, fixed). Recording is O(1) with no allocation;
 * a count sums the buckets covering the window at most once per second and window, and keeps
 * that sum current as outcomes arrive. Every method answers synchronously.
 *
 * Windows have one-second resolution and never under-count: the bucket holding the window's
 * start is included, so an outcome up to a second older than `windowMs` may still count.
 * Windows are capped at the ring (`bucketCount * 1000` ms): a longer one counts what the ring holds.
 */
export class BucketMemoryStorage implements Storage {
  readonly name = 'bucket'
  readonly capabilities: StorageCapabilities = CAPABILITIES
  /** Bytes of counters each circuit holds, fixed: `12 * bucketCount` (plus a small object overhead). */
  readonly bytesPerCircuit: number
  /** The longest window counted (ms): `bucketCount * 1000`. */
  readonly maxWindowMs: number
  readonly #clock: Clock
  /** The current epoch second: the shared ticker's for the default clock, else the injected clock's. */
  readonly #second: () => number
  readonly #bucketCount: number
  readonly #circuits = new Map<string, BucketCircuit>()
  readonly #listeners = new StatusListeners()
  // Scratch space for sums, so counting allocates nothing.
  readonly #sum = new Float64Array(2)
  #leaseSequence = 0

  /** @throws ConfigurationError when an option is out of range, naming it and the value. */
  constructor(options?: BucketMemoryStorageOptions) {
    const resolved = resolveBucketOptions(options)
    this.#clock = resolved.clock
    const clock = resolved.clock
    this.#second = clock === Date.now ? currentSecond : () => Math.floor(clock() / 1000)
    this.#bucketCount = resolved.bucketCount
    this.bytesPerCircuit = resolved.bucketCount * BYTES_PER_BUCKET
    this.maxWindowMs = resolved.bucketCount * 1000
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

  recordSuccess(circuit: string, _durationMs: number): void {
    this.#circuit(circuit).add(this.#second(), 0, 1)
  }

  recordFailure(circuit: string, _durationMs: number): void {
    this.#circuit(circuit).add(this.#second(), 1, 0)
  }

  successCount(circuit: string, windowMs: number): number {
    return this.#count(circuit, windowMs, 1)
  }

  failureCount(circuit: string, windowMs: number): number {
    return this.#count(circuit, windowMs, 0)
  }

  /** Counts one outcome and answers both counts over the window: one lookup, one pass. */
  record(circuit: string, outcome: Outcome, _durationMs: number, windowMs: number): WindowCounts {
    const state = this.#circuit(circuit)
    const now = this.#clock()
    const second = Math.floor(now / 1000)
    if (outcome === 'failure') state.add(second, 1, 0)
    else state.add(second, 0, 1)
    const sum = this.#sum
    state.sum(Math.floor((now - windowMs) / 1000), second, sum)
    return { failures: sum[0]!, successes: sum[1]! }
  }

  /** Counts a whole batch into the current second's bucket and answers both counts, in one pass. */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): WindowCounts {
    const state = this.#circuit(circuit)
    const now = this.#clock()
    const second = Math.floor(now / 1000)
    state.add(second, batch.failures, batch.successes)
    const sum = this.#sum
    state.sum(Math.floor((now - windowMs) / 1000), second, sum)
    return { failures: sum[0]!, successes: sum[1]! }
  }

  acquireProbe(circuit: string, max: number, ttlMs: number): ProbeLease | null {
    return (this.#circuit(circuit).leases ??= new LeaseTable()).acquire(`${++this.#leaseSequence}`, this.#clock(), max, ttlMs)
  }

  subscribe(listener: StatusListener): () => void {
    return this.#listeners.add(listener)
  }

  clear(circuit: string): void {
    this.#circuits.delete(circuit)
  }

  clearAll(): void {
    this.#circuits.clear()
  }

  #circuit(circuit: string): BucketCircuit {
    let state = this.#circuits.get(circuit)
    if (state === undefined) {
      state = new BucketCircuit(this.#bucketCount)
      this.#circuits.set(circuit, state)
    }
    return state
  }

  #count(circuit: string, windowMs: number, which: 0 | 1): number {
    const state = this.#circuits.get(circuit)
    if (state === undefined) return 0
    const now = this.#clock()
    const sum = this.#sum
    state.sum(Math.floor((now - windowMs) / 1000), Math.floor(now / 1000), sum)
    return sum[which]!
  }

  #write(state: BucketCircuit, circuit: string, record: StatusRecord): void {
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
