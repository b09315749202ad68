import { StorageError } from '@breaker/core'
import { statusProblem } from '@breaker/core/kit'
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
import type { SysVAddon } from './addon.js'
import { Counters } from './counters.js'
import { H, HEADER_BYTES, NAME_BYTES, computeLayout } from './layout.js'
import { LeaseCells } from './leases.js'
import { loadAddon } from './load.js'
import { SCOPE, resolveOptions } from './options.js'
import type { SysVStorageOptions } from './options.js'
import { STRUCTURE_LOCK, Segment, WRITE_LOCK, removeSegment } from './segment.js'
import { SlotTable, slotOffset } from './slots.js'
import { Seconds } from './seconds.js'
import { StatusCells } from './status.js'
import { segmentInfo } from './info.js'
import type { SegmentInfo } from './info.js'
import { StatusWatch } from './watch.js'
import { WindowSums } from './window.js'

const NAME = 'sysv'
const ZERO: WindowCounts = Object.freeze({ failures: 0, successes: 0 })

function addonOrThrow(operation: string): SysVAddon {
  try {
    return loadAddon()
  } catch (cause) {
    throw new StorageError(NAME, operation, (cause as Error).message, { cause })
  }
}

/**
 * Circuit state in a SysV shared-memory segment, shared by every process on the host that opens
 * the same `path`: node `cluster` workers, PM2 instances, unrelated services. No server, and
 * every method answers synchronously — a record-and-count is a few atomic instructions on the
 * shared memory, with no system call.
 *
 * Counters are lock-free atomics; status writes and probe permits take a semaphore that the
 * kernel gives back (`SEM_UNDO`) if its holder dies, so a process killed at any instant never
 * leaves the segment locked. Times are epoch ms from the injected `clock`; counts use per-second
 * buckets, so windows are resolved to the second and reach at most `bucketCount` seconds.
 *
 * @throws StorageError from the constructor when the addon cannot load (it lists every place
 * it looked), when SysV IPC is unavailable, or when the segment is incompatible.
 */
export class SysVStorage implements Storage {
  /** `'sysv'`. */
  readonly name = NAME
  /**
   * Shared by every process on the host; exact counts, CAS, leases and pushed status changes.
   * Names are kept as their UTF-8 bytes, at most 256 of them. No event log (durations are not
   * kept), and always ready: the constructor has opened the segment or thrown.
   */
  readonly capabilities: StorageCapabilities = Object.freeze({
    scope: 'host',
    atomic: true,
    cas: true,
    leases: true,
    subscribe: true,
    maxNameBytes: NAME_BYTES,
  })

  private readonly segment: Segment
  private readonly slots: SlotTable
  private readonly counters: Counters
  private readonly windows: WindowSums
  private readonly status: StatusCells
  private readonly leases: LeaseCells
  private readonly watch: StatusWatch
  private readonly clock: Clock
  private readonly seconds: Seconds
  private readonly lockTimeoutMs: number
  private readonly bucketCount: number
  private closed = false

  constructor(options: SysVStorageOptions) {
    const resolved = resolveOptions(options)
    const layout = computeLayout(resolved.slots, resolved.bucketCount, resolved.leasesPerCircuit)
    const addon = addonOrThrow('open')
    this.clock = resolved.clock
    this.seconds = new Seconds(resolved.clock, options.clock === undefined)
    this.lockTimeoutMs = resolved.lockTimeoutMs
    this.bucketCount = resolved.bucketCount
    this.segment = Segment.open(addon, { ...resolved, layout, now: resolved.clock() })
    const { i32, f64, b64 } = this.segment
    this.slots = new SlotTable(this.segment, resolved.lockTimeoutMs)
    this.counters = new Counters(i32, b64, layout.bucketCount, layout.bucketsOffset)
    this.windows = new WindowSums(this.counters, i32, layout.bucketCount)
    this.status = new StatusCells(i32, f64)
    this.leases = new LeaseCells(i32, f64, layout.leases)
    this.watch = new StatusWatch(this.segment, this.status, resolved.watchIntervalMs)
  }

  /**
   * Removes the segment and semaphores keyed by `path` (and `projectId`) without opening them
   * — the way out of a segment of another layout version. Run it once every process using the
   * segment has stopped. Answers whether a segment and a semaphore set were found.
   * @throws StorageError when the addon cannot load or the path does not exist.
   */
  static remove(path: string, options: { projectId?: number } = {}): { segment: boolean; semaphores: boolean } {
    const addon = addonOrThrow('remove')
    try {
      return removeSegment(addon, path, options.projectId ?? 0x42)
    } catch (cause) {
      throw StorageError.from(cause, NAME, 'remove')
    }
  }

  /** The circuit's status as last written by any process, or `null`. */
  getStatus(circuit: string): StatusRecord | null {
    this.ensureOpen('getStatus', circuit)
    const entry = this.slots.entry(circuit, false, 'getStatus')
    return entry === undefined ? null : this.status.read(entry, circuit, 'getStatus')
  }

  /** Writes the status unconditionally (last writer wins). */
  setStatus(circuit: string, record: StatusRecord): void {
    checkRecord(record, 'setStatus', circuit)
    const slot = this.slot(circuit, true, 'setStatus')
    const version = this.locked(WRITE_LOCK, 'setStatus', circuit, () => this.status.write(slot, record))
    this.watch.wrote(slot, version, circuit, record)
  }

  /** Writes `record` only if the stored epoch (0 when absent) equals `expectedEpoch`; exactly one racer wins. */
  compareAndSetStatus(circuit: string, expectedEpoch: number, record: StatusRecord): boolean {
    checkRecord(record, 'compareAndSetStatus', circuit)
    const slot = this.slot(circuit, true, 'compareAndSetStatus')
    const version = this.locked(WRITE_LOCK, 'compareAndSetStatus', circuit, () =>
      this.status.epoch(slot, circuit, 'compareAndSetStatus') === expectedEpoch ? this.status.write(slot, record) : undefined,
    )
    // undefined, not -1: a version word can hold any Int32 (it wraps, or was overwritten).
    if (version === undefined) return false
    this.watch.wrote(slot, version, circuit, record)
    return true
  }

  /**
   * Pushes every status write by any process sharing the segment: this process's at once,
   * others' within `watchIntervalMs` (the newest write per circuit since the last look).
   */
  subscribe(listener: StatusListener): () => void {
    this.ensureOpen('subscribe')
    return this.watch.add(listener)
  }

  /** Counts one success now; `durationMs` is not kept. */
  recordSuccess(circuit: string, _durationMs: number): void {
    this.add(this.slot(circuit, true, 'recordSuccess'), this.second(), 0, 1)
  }

  /** Counts one failure now; `durationMs` is not kept. */
  recordFailure(circuit: string, _durationMs: number): void {
    this.add(this.slot(circuit, true, 'recordFailure'), this.second(), 1, 0)
  }

  /** Successes in the last `windowMs` ms, resolved to whole seconds (at most `bucketCount` s). */
  successCount(circuit: string, windowMs: number): number {
    return this.counts(circuit, windowMs, 'successCount').successes
  }

  /** Failures in the last `windowMs` ms, resolved to whole seconds (at most `bucketCount` s). */
  failureCount(circuit: string, windowMs: number): number {
    return this.counts(circuit, windowMs, 'failureCount').failures
  }

  /** Counts one outcome and answers both counts over the window, in one pass over the memory. */
  record(circuit: string, outcome: Outcome, _durationMs: number, windowMs: number): WindowCounts {
    const slot = this.slot(circuit, true, 'record')
    const second = this.second()
    const failure = outcome === 'failure' ? 1 : 0
    this.add(slot, second, failure, 1 - failure)
    return this.windows.count(slot, second, seconds(windowMs))
  }

  /** Counts a whole batch with two atomic adds and answers both counts over the window. */
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): WindowCounts {
    const slot = this.slot(circuit, true, 'recordBatch')
    const second = this.second()
    this.add(slot, second, batch.failures, batch.successes)
    return this.windows.count(slot, second, seconds(windowMs))
  }

  /** A half-open probe permit if fewer than `max` are live across every process, else `null`. */
  acquireProbe(circuit: string, max: number, ttlMs: number): ProbeLease | null {
    const slot = this.slot(circuit, true, 'acquireProbe')
    const now = this.clock()
    const grant = this.locked(WRITE_LOCK, 'acquireProbe', circuit, () => this.leases.acquire(slot, max, ttlMs, now))
    if (grant === null) return null
    const generation = Atomics.load(this.segment.i32, H.GENERATION)
    return {
      id: String(grant.id),
      expiresAt: grant.expiresAt,
      release: () => {
        // After clearAll the cell may belong to another circuit: nothing of ours is left to free.
        if (this.closed || Atomics.load(this.segment.i32, H.GENERATION) !== generation) return
        this.leases.release(grant.cell, grant.id)
      },
    }
  }

  /** Forgets the circuit's status, counts and permits; its name keeps its slot. */
  clear(circuit: string): void {
    const slot = this.slot(circuit, false, 'clear')
    if (slot < 0) return
    const version = this.locked(WRITE_LOCK, 'clear', circuit, () => {
      this.leases.clear(slot)
      this.counters.clear(slot)
      return this.status.write(slot, null)
    })
    this.watch.removed(slot, version, circuit)
  }

  /** Forgets every circuit and frees every slot, for every process sharing the segment. */
  clearAll(): void {
    this.ensureOpen('clearAll')
    const { u8, i32, layout } = this.segment
    this.locked(STRUCTURE_LOCK, 'clearAll', undefined, () =>
      this.locked(WRITE_LOCK, 'clearAll', undefined, () => {
        // Bump the generation first so other processes stop trusting cached slots, then wipe.
        Atomics.add(i32, H.GENERATION, 1)
        u8.fill(0, HEADER_BYTES, slotOffset(layout.slotBytes, layout.slots))
        Atomics.store(i32, H.SLOTS_USED, 0)
        // So that other processes' watchers look, and find the new generation.
        Atomics.add(i32, H.STATUS_CHANGES, 1)
      }),
    )
    this.slots.reset()
    this.watch.removed()
  }

  /** Sizes, usage and identifiers of the segment, for logs and dashboards (see also `ipcs -m`). */
  info(): SegmentInfo {
    this.ensureOpen('info')
    try {
      return segmentInfo(this.segment)
    } catch (cause) {
      throw StorageError.from(cause, NAME, 'info')
    }
  }

  /** Detaches this process from the segment; the state stays for the others. Later calls throw. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.watch.stop()
    this.seconds.stop()
    this.segment.detach()
  }

  /**
   * Removes the segment and its semaphores from the system, then detaches. Processes still
   * attached keep their (now private) copy until they detach, and their status writes fail;
   * a new `SysVStorage` on the same path creates a fresh segment. Call it when the whole
   * group of processes shuts down, or from tests.
   */
  destroy(): void {
    this.closed = true
    this.watch.stop()
    this.seconds.stop()
    try {
      this.segment.remove()
    } catch (cause) {
      // EPERM: only the owner (or root) may remove a segment.
      throw StorageError.from(cause, NAME, 'destroy')
    }
  }

  private second(): number {
    return this.seconds.now()
  }

  private add(slot: number, second: number, failures: number, successes: number): void {
    this.counters.add(slot, second, failures, successes)
    this.windows.wrote(second)
  }

  private counts(circuit: string, windowMs: number, operation: string): WindowCounts {
    const slot = this.slot(circuit, false, operation)
    if (slot < 0) return ZERO
    return this.windows.count(slot, this.second(), seconds(windowMs))
  }

  private slot(circuit: string, claim: boolean, operation: string): number {
    this.ensureOpen(operation, circuit)
    return this.slots.offset(circuit, claim, operation)
  }

  private ensureOpen(operation: string, circuit?: string): void {
    if (this.closed) throw new StorageError(NAME, operation, `[${SCOPE}] the storage is closed`, { circuit })
  }

  private locked<T>(index: number, operation: string, circuit: string | undefined, fn: () => T): T {
    this.segment.lock(index, this.lockTimeoutMs, operation, circuit)
    try {
      return fn()
    } finally {
      this.segment.unlock(index, operation, circuit)
    }
  }

  /** Longest window the counters can answer (ms). */
  get maxWindowMs(): number {
    return this.bucketCount * 1000
  }
}

/**
 * Refuses a record that is not valid before it reaches shared memory, where it would mislead
 * every process; the rule is core's one validator.
 * @throws StorageError naming what is wrong.
 */
function checkRecord(record: StatusRecord, operation: string, circuit: string): void {
  const problem = statusProblem(record)
  if (problem !== undefined) throw new StorageError(NAME, operation, `[${SCOPE}] refused to store an invalid status: ${problem}`, { circuit })
}

/** Whole seconds a window spans; the current (partial) second is one of them. */
function seconds(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / 1000))
}
