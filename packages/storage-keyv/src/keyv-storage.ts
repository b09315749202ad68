import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { StorageError } from '@breaker/core'
import type { Outcome, StatusRecord, Storage, StorageCapabilities, WindowCounts } from '@breaker/core'
import { MAX_COUNT, readStoredStatus } from '@breaker/core/kit'
import { decodeSlot, decodeWriterValue, encodeStatus, sumWindow } from './decode.js'
import { STORAGE_NAME, guard } from './errors.js'
import { globalGenerationKey, isOwnKey, keyvKeys } from './keys.js'
import type { KeyvKeys } from './keys.js'
import { resolveOptions } from './options.js'
import type { KeyvStorageOptions, ResolvedOptions } from './options.js'
import { ReadGate } from './read-gate.js'
import { CircuitWriter } from './writer.js'

/**
 * Circuit storage on any Keyv store, shared by every instance using the same store and prefix.
 *
 * Keyv has no atomic increment, so each instance (writer) keeps its own per-bucket counts and
 * stores them under its own key; readers sum every writer's buckets inside the window. Writers
 * announce themselves in a fixed set of slot keys per circuit, which readers read in one getMany.
 * Nothing is lost when many processes write at once, because no key is ever written by two of them.
 * No CAS, leases or pub/sub: a plain key-value store cannot offer them honestly.
 */
export class KeyvStorage implements Storage {
  readonly name = STORAGE_NAME
  readonly capabilities: StorageCapabilities
  /** This instance's writer id. */
  readonly writerId: string
  private readonly options: ResolvedOptions

  /** The Keyv instance the storage runs on (yours). */
  get keyv(): ResolvedOptions['keyv'] {
    return this.options.keyv
  }

  private readonly writers = new Map<string, CircuitWriter>()
  private readonly keyCache = new Map<string, KeyvKeys>()
  private readonly globalGeneration: string
  private readonly readGate = new ReadGate<WindowCounts>()

  /** @throws ConfigurationError when an option is missing or out of range. */
  constructor(options: KeyvStorageOptions) {
    this.options = resolveOptions(options)
    this.writerId = this.options.writerId ?? randomUUID()
    this.globalGeneration = globalGenerationKey(this.options.prefix)
    this.capabilities = Object.freeze({ scope: this.options.scope, atomic: true, cas: false, leases: false, subscribe: false })
    // Keyv swallows store errors unless told otherwise; a swallowed read would look like "no failures".
    this.options.keyv.throwOnErrors = true
  }

  /** The stored status; a value that is not a valid status record is reported (`ERR_STORAGE_CORRUPT`) and read as absent. */
  async getStatus(circuit: string): Promise<StatusRecord | null> {
    const value = await this.io('getStatus', circuit, () => this.options.keyv.get(this.keys(circuit).status))
    return readStoredStatus(value, { storage: STORAGE_NAME, circuit, operation: 'getStatus' })
  }

  async setStatus(circuit: string, record: StatusRecord): Promise<void> {
    const plain = encodeStatus(record)
    await this.io('setStatus', circuit, () => this.checked(this.options.keyv.set(this.keys(circuit).status, plain)))
  }

  recordSuccess(circuit: string, _durationMs: number): Promise<void> {
    return this.write(circuit, 0, 1, this.options.retentionMs, 'recordSuccess')
  }

  recordFailure(circuit: string, _durationMs: number): Promise<void> {
    return this.write(circuit, 1, 0, this.options.retentionMs, 'recordFailure')
  }

  async successCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.sharedRead(circuit, windowMs, 'successCount')).successes
  }

  async failureCount(circuit: string, windowMs: number): Promise<number> {
    return (await this.sharedRead(circuit, windowMs, 'failureCount')).failures
  }

  /** Counts one outcome, then answers the window's counts (one write, then two reads). */
  async record(circuit: string, outcome: Outcome, _durationMs: number, windowMs: number): Promise<WindowCounts> {
    const failure = outcome === 'failure' ? 1 : 0
    await this.write(circuit, failure, 1 - failure, windowMs, 'record')
    return this.sharedRead(circuit, windowMs, 'record')
  }

  /**
   * Counts a batch of outcomes with one write, then answers the window's counts. Counts are read
   * as whole numbers >= 0 (anything else counts as 0) and saturate at `MAX_COUNT`.
   */
  async recordBatch(circuit: string, batch: WindowCounts, windowMs: number): Promise<WindowCounts> {
    const failures = whole(batch.failures)
    const successes = whole(batch.successes)
    if (failures > 0 || successes > 0) await this.write(circuit, failures, successes, windowMs, 'recordBatch')
    return this.sharedRead(circuit, windowMs, 'recordBatch')
  }

  /** Forgets the circuit: a new generation voids every writer's counts (even ones still in flight), then its keys go. */
  async clear(circuit: string): Promise<void> {
    const keys = this.keys(circuit)
    const { keyv, maxWriters } = this.options
    const generation = randomUUID()
    await this.io('clear', circuit, async () => {
      await this.checked(keyv.set(keys.generation, generation))
      const slots = Array.from({ length: maxWriters }, (_, i) => keys.slot(i))
      const source = { storage: STORAGE_NAME, circuit, operation: 'clear' }
      const holders = ((await keyv.getMany(slots)) as unknown[]).map((slot) => decodeSlot(slot, source))
      const writers = [...new Set(holders.filter((id): id is string => id !== undefined))]
      await keyv.deleteMany([keys.status, ...slots, ...writers.map((id) => keys.writer(id))])
    })
    this.writers.delete(circuit)
  }

  /**
   * Deletes every key of this prefix (and nothing else), listing them with the store's iterator,
   * then starts a new generation so counts still held by other instances are void.
   * @throws StorageError when the store cannot be iterated (Memcached, for one).
   */
  async clearAll(): Promise<void> {
    const { keyv, prefix } = this.options
    if (typeof keyv.iterator !== 'function') {
      throw new StorageError(STORAGE_NAME, 'clearAll', '[@breaker/storage-keyv] clearAll needs a store Keyv can iterate (Map, Redis, PostgreSQL, SQLite, …)')
    }
    await this.io('clearAll', undefined, async () => {
      const doomed: string[] = []
      for await (const [key] of keyv.iterator!(undefined) as AsyncIterable<[string, unknown]>) {
        if (isOwnKey(prefix, key) && key !== this.globalGeneration) doomed.push(key)
      }
      for (let i = 0; i < doomed.length; i += 500) await keyv.deleteMany(doomed.slice(i, i + 500))
      await this.checked(keyv.set(this.globalGeneration, randomUUID()))
    }, 0)
    this.writers.clear()
  }

  private keys(circuit: string): KeyvKeys {
    let keys = this.keyCache.get(circuit)
    if (!keys) {
      keys = keyvKeys(this.options.prefix, circuit)
      if (this.keyCache.size > 10_000) this.keyCache.clear()
      this.keyCache.set(circuit, keys)
    }
    return keys
  }

  private writer(circuit: string, keepMs: number): CircuitWriter {
    let writer = this.writers.get(circuit)
    if (!writer) {
      writer = new CircuitWriter(Math.max(keepMs, this.options.retentionMs))
      this.writers.set(circuit, writer)
    } else if (keepMs > writer.keepMs) writer.keepMs = keepMs
    return writer
  }

  private async write(circuit: string, failures: number, successes: number, keepMs: number, operation: string): Promise<void> {
    const writer = this.writer(circuit, keepMs)
    const target = writer.add(this.bucketIndex(), failures, successes)
    await this.claimSlot(circuit, writer, operation)
    // Coalesce: while one write is in flight, later outcomes wait for it and share the next one.
    while (writer.flushed < target && this.writers.get(circuit) === writer) {
      writer.inflight ??= this.flush(circuit, writer, operation).finally(() => {
        writer.inflight = undefined
      })
      await writer.inflight
    }
  }

  private async flush(circuit: string, writer: CircuitWriter, operation: string): Promise<void> {
    const keys = this.keys(circuit)
    const version = writer.version
    const value = writer.snapshot(this.bucketIndex(), this.options.bucketMs)
    const ttl = writer.keepMs + this.options.bucketMs
    await this.io(operation, circuit, () => this.checked(this.options.keyv.set(keys.writer(this.writerId), value, ttl)))
    writer.flushed = Math.max(writer.flushed, version)
    // Keep the slot alive as long as the counts it points at.
    if (writer.slot >= 0 && Date.now() - writer.slotConfirmedAt > writer.keepMs / 2) {
      writer.slotConfirmedAt = Date.now()
      await this.io(operation, circuit, () => this.checked(this.options.keyv.set(keys.slot(writer.slot), { w: this.writerId }, this.slotTtl(writer))))
    }
  }

  private slotTtl(writer: CircuitWriter): number {
    return 2 * writer.keepMs + this.options.bucketMs
  }

  /** Claims a writer slot once per circuit (again after losing it). */
  private async claimSlot(circuit: string, writer: CircuitWriter, operation: string): Promise<void> {
    writer.claim ??= this.claim(circuit, writer, operation).then(
      (slot) => {
        writer.slot = slot
        writer.slotConfirmedAt = Date.now()
        return slot
      },
      (error: unknown) => {
        writer.claim = undefined
        throw error
      },
    )
    await writer.claim
  }

  /**
   * Takes a free slot: write our id, wait, and read it back twice. Two writers that picked the
   * same slot see one of them lose and move on; a random pick among free slots makes that rare.
   */
  private async claim(circuit: string, writer: CircuitWriter, operation: string): Promise<number> {
    const keys = this.keys(circuit)
    const { keyv, maxWriters, claimCheckMs } = this.options
    for (let attempt = 0; attempt < 8; attempt++) {
      const meta = await this.readMeta(circuit, operation)
      writer.generation ??= meta.generation
      const mine = meta.holders.indexOf(this.writerId)
      if (mine >= 0) return mine
      const free = meta.holders.flatMap((holder, i) => (holder === undefined ? [i] : []))
      if (free.length === 0) {
        throw new StorageError(STORAGE_NAME, operation, `[@breaker/storage-keyv] all ${maxWriters} writer slots of '${circuit}' are taken (maxWriters)`, { circuit })
      }
      const slot = free[Math.floor(Math.random() * free.length)]!
      await this.io(operation, circuit, () => this.checked(keyv.set(keys.slot(slot), { w: this.writerId }, this.slotTtl(writer))))
      let held = true
      for (let check = 0; check < 2 && held; check++) {
        await sleep(claimCheckMs * (0.5 + Math.random()))
        const value = await this.io(operation, circuit, () => keyv.get(keys.slot(slot)))
        held = decodeSlot(value, { storage: STORAGE_NAME, circuit, operation }) === this.writerId
      }
      if (held) return slot
    }
    throw new StorageError(STORAGE_NAME, operation, `[@breaker/storage-keyv] could not claim a writer slot of '${circuit}'`, { circuit })
  }

  /** Slot holders (by slot index) and the circuit's current generation, in one getMany. */
  private async readMeta(circuit: string, operation: string): Promise<{ holders: Array<string | undefined>; generation: string }> {
    const keys = this.keys(circuit)
    const { maxWriters } = this.options
    const names = Array.from({ length: maxWriters }, (_, i) => keys.slot(i))
    names.push(keys.generation, this.globalGeneration)
    const values = (await this.io(operation, circuit, () => this.options.keyv.getMany(names))) as unknown[]
    const source = { storage: STORAGE_NAME, circuit, operation }
    const holders = values.slice(0, maxWriters).map((value) => decodeSlot(value, source))
    const generation = `${String(values[maxWriters + 1] ?? '')}/${String(values[maxWriters] ?? '')}`
    return { holders, generation }
  }

  /** A read that includes every write finished before it was asked for, shared with concurrent callers. */
  private sharedRead(circuit: string, windowMs: number, operation: string): Promise<WindowCounts> {
    return this.readGate.read(`${windowMs}\u0000${circuit}`, () => this.read(circuit, windowMs, operation))
  }

  private async read(circuit: string, windowMs: number, operation: string, retried = false): Promise<WindowCounts> {
    const keys = this.keys(circuit)
    const meta = await this.readMeta(circuit, operation)
    const writer = this.writers.get(circuit)
    if (writer && writer.generation !== meta.generation) {
      // Someone cleared the circuit since we counted: what we hold belongs to the old generation.
      writer.reset(meta.generation)
      writer.claim = undefined
    }
    const ids = [...new Set(meta.holders.filter((id): id is string => id !== undefined))]
    if (writer?.holdsCounts && writer.claim && !ids.includes(this.writerId) && !retried) {
      if (writer.slot >= 0) {
        // Our claim had completed, so the slot lapsed or was taken: claim one again, once —
        // concurrent reads join that claim below — so our counts are visible, then read again.
        writer.slot = -1
        writer.claim = undefined
      }
      await this.claimSlot(circuit, writer, operation)
      writer.slotConfirmedAt = 0
      return this.read(circuit, windowMs, operation, true)
    }
    const stored = ids.length === 0 ? [] : ((await this.io(operation, circuit, () => this.options.keyv.getMany(ids.map((id) => keys.writer(id))))) as unknown[])
    const source = { storage: STORAGE_NAME, circuit, operation }
    const values = stored.map((value) => decodeWriterValue(value, source))
    const last = this.bucketIndex()
    const first = last - Math.ceil(windowMs / this.options.bucketMs) + 1
    return sumWindow(values, meta.generation, first, last)
  }

  private bucketIndex(): number {
    return Math.floor(this.options.clock() / this.options.bucketMs)
  }

  private io<T>(operation: string, circuit: string | undefined, work: () => Promise<T>, timeout = this.options.timeout): Promise<T> {
    return guard(work, operation, circuit, timeout)
  }

  /** Keyv answers `false` when a set did not happen; that is a failure, not a detail. */
  private async checked(result: Promise<boolean>): Promise<void> {
    if ((await result) === false) throw new Error('the Keyv store did not store the value')
  }
}

/** A batch count as written: a whole number from 0 to `MAX_COUNT` (NaN and negatives are 0). */
function whole(count: number): number {
  if (!(count > 0)) return 0
  return count < MAX_COUNT ? Math.floor(count) : MAX_COUNT
}
