import type { Clock, StatusRecord, Storage, StorageCapabilities, WindowCounts } from '@breaker/core'
import { MAX_COUNT, decodeCount, guardDeadline, readStoredStatus, reportCorrupt, saturatingAdd, toStorageError } from '@breaker/core/kit'

/** What the backend needs from its client: a key-value store with an atomic increment. */
export interface KvClient {
  /** The value under `key`, `undefined` when there is none. */
  get(key: string): Promise<unknown>
  /** The values under `keys`, in order. */
  getMany(keys: readonly string[]): Promise<unknown[]>
  /** Stores `value` under `key`. */
  set(key: string, value: unknown): Promise<void>
  /** Adds `by` to the number under `key` (0 when absent), keeps it `ttlMs` ms; answers the sum. */
  increment(key: string, by: number, ttlMs: number): Promise<number>
  /** Deletes `keys`. */
  delete(keys: readonly string[]): Promise<void>
  /** Every key that starts with `prefix`. */
  keys(prefix: string): Promise<string[]>
}

/** Options of {@link KvStorage}. */
export interface KvStorageOptions {
  readonly client: KvClient
  /** First segment of every key; default `'breaker'`. */
  readonly prefix?: string
  /** Epoch ms; default `Date.now`. The conformance suite passes a manual one. */
  readonly clock?: Clock
  /** Deadline of each client call (ms); default 1 000. */
  readonly timeoutMs?: number
}

/** Longest window counted (ms): per-second counters are kept this long. */
const KEEP_MS = 3_600_000

/** Encodes a key segment so it holds no `:`: names never collide, and a prefix never owns another prefix's keys. */
const segment = (value: string): string => encodeURIComponent(value)

/**
 * Circuits shared through any key-value store: a status record per circuit and one counter per
 * circuit, outcome and epoch second. No compare-and-set, leases or pushes — a plain store
 * cannot offer them honestly, so the capabilities say so and the suite skips those checks.
 */
export class KvStorage implements Storage {
  readonly name = 'kv'
  readonly capabilities: StorageCapabilities = {
    scope: 'cluster',
    atomic: true, // the store's increment never loses a concurrent write
    cas: false,
    leases: false,
    subscribe: false,
    maxNameBytes: 200, // core refuses longer names when a circuit is constructed
  }
  readonly #client: KvClient
  readonly #prefix: string
  readonly #clock: Clock
  readonly #timeoutMs: number

  constructor(options: KvStorageOptions) {
    this.#client = options.client
    this.#prefix = segment(options.prefix ?? 'breaker')
    this.#clock = options.clock ?? Date.now
    this.#timeoutMs = options.timeoutMs ?? 1_000
  }

  async getStatus(circuit: string): Promise<StatusRecord | null> {
    const stored = await this.#io('getStatus', circuit, () => this.#client.get(this.#key(circuit, 'status')))
    // One validator for every backend: a corrupt value is reported and read as absent.
    return readStoredStatus(stored, { storage: this.name, circuit, operation: 'getStatus' })
  }

  async setStatus(circuit: string, record: StatusRecord): Promise<void> {
    // Every field, the optional backoff and holds too: instances must agree on them.
    const { status, openedAt, epoch, updatedAt, backoff, holds } = record
    const stored = { status, openedAt, epoch, updatedAt, ...(backoff ? { backoff } : {}), ...(holds ? { holds } : {}) }
    await this.#io('setStatus', circuit, () => this.#client.set(this.#key(circuit, 'status'), stored))
  }

  async recordSuccess(circuit: string): Promise<void> {
    await this.#add('recordSuccess', circuit, 'successes', 1)
  }

  async recordFailure(circuit: string): Promise<void> {
    await this.#add('recordFailure', circuit, 'failures', 1)
  }

  async successCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.#counts('successCount', circuit, windowMs)).successes
  }

  async failureCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.#counts('failureCount', circuit, windowMs)).failures
  }

  /** A whole batch in two increments, so importing huge counts costs O(1). (`record` is left to core.) */
  async recordBatch(circuit: string, batch: WindowCounts, windowMs: number): Promise<WindowCounts> {
    await this.#add('recordBatch', circuit, 'failures', batch.failures)
    await this.#add('recordBatch', circuit, 'successes', batch.successes)
    return this.#counts('recordBatch', circuit, windowMs)
  }

  async clear(circuit: string): Promise<void> {
    await this.#io('clear', circuit, async () => this.#client.delete(await this.#client.keys(this.#key(circuit, ''))))
  }

  /** Deletes this prefix's keys, and only those: the encoded prefix is the whole first segment. */
  async clearAll(): Promise<void> {
    await this.#io('clearAll', undefined, async () => this.#client.delete(await this.#client.keys(`${this.#prefix}:`)))
  }

  #key(circuit: string, rest: string): string {
    return `${this.#prefix}:${segment(circuit)}:${rest}`
  }

  async #add(operation: string, circuit: string, outcome: keyof WindowCounts, by: number): Promise<void> {
    if (by <= 0) return
    const key = this.#key(circuit, `${outcome}:${Math.floor(this.#clock() / 1000)}`)
    await this.#io(operation, circuit, () => this.#client.increment(key, by, KEEP_MS))
  }

  /** Sums the per-second counters of the window, each read back through the kit's `decodeCount`. */
  async #counts(operation: string, circuit: string, windowMs: number): Promise<WindowCounts> {
    const nowMs = this.#clock()
    const first = Math.floor((nowMs - Math.min(windowMs, KEEP_MS)) / 1000)
    const seconds = Array.from({ length: Math.floor(nowMs / 1000) - first + 1 }, (_, i) => first + i)
    const keys = seconds.flatMap((second) => [this.#key(circuit, `failures:${second}`), this.#key(circuit, `successes:${second}`)])
    const values = await this.#io(operation, circuit, () => this.#client.getMany(keys))
    const counts = { failures: 0, successes: 0 }
    values.forEach((value, i) => {
      if (value === undefined || value === null) return
      // An increment cannot stop at MAX_COUNT, so a larger finite number is a saturated count.
      const count = typeof value === 'number' && Number.isFinite(value) && value > MAX_COUNT ? MAX_COUNT : decodeCount(value)
      // Not a count (a foreign write: a fraction, '041', a negative): reported, and counted as absent.
      if (count === undefined) return void reportCorrupt({ storage: this.name, circuit, operation }, `counter ${keys[i]}`, value)
      const outcome = i % 2 === 0 ? 'failures' : 'successes'
      counts[outcome] = saturatingAdd(counts[outcome], count) // never past Number.MAX_SAFE_INTEGER
    })
    return counts
  }

  /** Every client call: failures become a `StorageError`, and a late answer a `StorageTimeoutError`. */
  #io<T>(operation: string, circuit: string | undefined, call: () => Promise<T>): Promise<T> {
    const source = { storage: this.name, operation, circuit }
    const answer = call().catch((error: unknown) => {
      throw toStorageError(error, source)
    })
    return guardDeadline(answer, this.#timeoutMs, source) as Promise<T>
  }
}
