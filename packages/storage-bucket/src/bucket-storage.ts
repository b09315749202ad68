import type {
  CircuitHandle,
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
import { IdleRelease, MAX_COUNT, copyStatus } from '@breaker/core/kit'
import { BucketCircuit } from './bucket-circuit.js'
import type { BucketInternals } from './bucket-circuit.js'
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
 *
 * Circuits are forgotten: once no live circuit retains a name (`retain`) and its entry holds no
 * count inside the longest window asked about, no lease and no open or half-open status, the
 * entry is dropped — so per-tenant or per-host circuit names do not grow memory without bound.
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
  readonly #idle = new IdleRelease(this.#circuits, (state) => this.#needed(state))
  readonly #internals: BucketInternals
  // Longest window any count asked about (ms), capped at the ring: counts older than it are not needed.
  #longestWindowMs = 0
  // Scratch space for sums, so counting allocates nothing.
  readonly #sum = new Float64Array(2)
  #leaseSequence = 0

  /** @throws ConfigurationError when an option is out of range, naming it and the value. */
  constructor(options?: BucketMemoryStorageOptions) {
    const resolved = resolveBucketOptions(options)
    this.#clock = resolved.clock
    const clock = resolved.clock
    this.#second = clock === Date.now ? currentSecond : () => Math.floor(clock() / 1000)
    // The clock function itself, not a closure over this storage: a handle's write touches no more objects than it must.
    this.#internals = { second: this.#second, record: (state, outcome, windowMs) => this.#recordInto(state, outcome, windowMs) }
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
    return this.#recordInto(this.#circuit(circuit), outcome, windowMs)
  }

  /** A handle on one circuit for the per-call path: its entry itself, so no lookup by name per call. */
  bind(circuit: string): CircuitHandle {
    return this.#circuit(circuit)
  }

  #recordInto(state: BucketCircuit, outcome: Outcome, windowMs: number): WindowCounts {
    if (windowMs > this.#longestWindowMs) this.#seeWindow(windowMs)
    const now = this.#clock()
    const second = Math.floor(now / 1000)
    if (outcome === 'failure') state.add(second, 1, 0)
    else state.add(second, 0, 1)
    const sum = this.#sum
    state.sum(Math.floor((now - windowMs) / 1000), second, sum)
    return { failures: sum[0]!, successes: sum[1]! }
  }

  /**
   * Counts a whole batch into the current second's bucket and answers both counts, in one pass.
   * Counts are read as whole numbers >= 0 (anything else counts as 0); a bucket saturates at
   * 4 294 967 295 of each outcome instead of wrapping.
   */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): WindowCounts {
    if (windowMs > this.#longestWindowMs) this.#seeWindow(windowMs)
    const state = this.#circuit(circuit)
    const now = this.#clock()
    const second = Math.floor(now / 1000)
    state.add(second, whole(batch.failures), whole(batch.successes))
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

  /**
   * Marks `circuit` in use by a live circuit (core calls this at construction); answers the
   * release (idempotent). Once released, the entry is dropped as soon as it holds nothing needed.
   */
  retain(circuit: string): () => void {
    return this.#idle.retain(circuit)
  }

  /** Forgets one circuit; subscribers hear `{ resync: true, circuit }` and re-read it. */
  clear(circuit: string): void {
    // A retained entry is some circuit's handle: reset in place rather than dropped.
    if (this.#idle.retained(circuit)) this.#circuits.get(circuit)?.reset()
    else this.#circuits.delete(circuit)
    this.#listeners.resync(circuit)
  }

  /** Forgets every circuit; subscribers hear `{ resync: true }` and re-read. */
  clearAll(): void {
    for (const [circuit, state] of this.#circuits) {
      if (this.#idle.retained(circuit)) state.reset()
      else this.#circuits.delete(circuit)
    }
    this.#idle.clear()
    this.#listeners.resync()
  }

  /** How many circuits this storage holds an entry for (released idle ones are not counted). */
  get size(): number {
    return this.#circuits.size
  }

  #circuit(circuit: string): BucketCircuit {
    let state = this.#circuits.get(circuit)
    if (state === undefined) {
      state = new BucketCircuit(this.#bucketCount, this.#internals)
      this.#circuits.set(circuit, state)
      this.#idle.created()
    }
    return state
  }

  #seeWindow(windowMs: number): void {
    this.#longestWindowMs = windowMs < this.maxWindowMs ? windowMs : this.maxWindowMs
  }

  #needed(state: BucketCircuit): boolean {
    if (state.status !== null && state.status.status !== 'closed') return true
    const now = this.#clock()
    // Asking for 0 permits only drops the lapsed ones: a holder that never released does not pin the entry.
    if (state.leases !== undefined && state.leases.held(now) > 0) return true
    // The newest bucket written is still inside the longest window asked about.
    return state.latest >= Math.floor((now - this.#longestWindowMs) / 1000)
  }

  #count(circuit: string, windowMs: number, which: 0 | 1): number {
    if (windowMs > this.#longestWindowMs) this.#seeWindow(windowMs)
    const state = this.#circuits.get(circuit)
    if (state === undefined) return 0
    const now = this.#clock()
    const sum = this.#sum
    state.sum(Math.floor((now - windowMs) / 1000), Math.floor(now / 1000), sum)
    return sum[which]!
  }

  #write(state: BucketCircuit, circuit: string, record: StatusRecord): void {
    // A frozen copy of the four fields: callers cannot change what others read.
    const stored = copyStatus(record)
    state.status = stored
    this.#listeners.notify(circuit, stored)
  }
}

/** A batch count as the ring keeps it: a whole number from 0 to `MAX_COUNT` (NaN and negatives are 0). */
function whole(count: number): number {
  if (!(count > 0)) return 0
  return count < MAX_COUNT ? Math.floor(count) : MAX_COUNT
}
