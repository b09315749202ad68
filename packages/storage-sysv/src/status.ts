import { isCircuitState, StorageError } from '@breaker/core'
import type { CircuitState, StatusRecord } from '@breaker/core'
import { H, R, S, STATUS_RECORD_BYTES } from './layout.js'
import { SCOPE } from './options.js'

// State codes as stored; 0 = no status written.
const CODES: Record<CircuitState, number> = { closed: 1, open: 2, half_open: 3 }
const STATES: readonly (CircuitState | null)[] = [null, 'closed', 'open', 'half_open']

/**
 * The circuit status in a slot: two record copies and a version whose low bit says which copy
 * is current (a seqlock with double buffering). Writers — already serialised by the write lock —
 * fill the other copy and then publish it by bumping the version, so a writer killed half-way
 * leaves the current copy untouched and readers never wait. Readers take the version, read the
 * current copy, and retry if the version moved meanwhile.
 */
export class StatusCells {
  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
  ) {}

  /** The current record of the slot at byte offset `slot`, or `null` when none was written. */
  read(slot: number): StatusRecord | null {
    const { i32, f64 } = this
    const version = (slot + S.STATUS_VERSION) >> 2
    for (;;) {
      const seen = Atomics.load(i32, version)
      const at = slot + S.STATUS + (seen & 1) * STATUS_RECORD_BYTES
      const code = Atomics.load(i32, (at + R.CODE) >> 2)
      const epoch = f64[(at + R.EPOCH) >> 3]!
      const openedAt = f64[(at + R.OPENED_AT) >> 3]!
      const updatedAt = f64[(at + R.UPDATED_AT) >> 3]!
      if (Atomics.load(i32, version) !== seen) continue
      const status = STATES[code]
      if (status === null || status === undefined) return null
      return { status, openedAt: Number.isNaN(openedAt) ? null : openedAt, epoch, updatedAt }
    }
  }

  /** The stored epoch (0 when no status was written). Only meaningful under the write lock. */
  epoch(slot: number): number {
    return this.read(slot)?.epoch ?? 0
  }

  /**
   * Publishes `record` (or no status, for `null`) and answers the new version; the caller
   * holds the write lock.
   */
  write(slot: number, record: StatusRecord | null): number {
    const { i32, f64 } = this
    const version = (slot + S.STATUS_VERSION) >> 2
    const next = Atomics.load(i32, version) + 1
    const at = slot + S.STATUS + (next & 1) * STATUS_RECORD_BYTES
    f64[(at + R.EPOCH) >> 3] = record?.epoch ?? 0
    f64[(at + R.OPENED_AT) >> 3] = record?.openedAt ?? Number.NaN
    f64[(at + R.UPDATED_AT) >> 3] = record?.updatedAt ?? 0
    Atomics.store(i32, (at + R.CODE) >> 2, record === null ? 0 : CODES[record.status])
    Atomics.store(i32, version, next)
    Atomics.add(i32, H.STATUS_CHANGES, 1)
    return next
  }
}

/**
 * Checks a record before it reaches shared memory, where a bad one would mislead every process.
 * @throws StorageError naming what is wrong.
 */
export function checkRecord(record: StatusRecord, operation: string, circuit: string): void {
  const bad = (what: string) =>
    new StorageError('sysv', operation, `[${SCOPE}] ${what}, got ${JSON.stringify(record)}`, { circuit })
  if (typeof record !== 'object' || record === null || !isCircuitState(record.status)) {
    throw bad("status must be 'closed', 'open' or 'half_open'")
  }
  if (typeof record.epoch !== 'number' || !Number.isFinite(record.epoch)) throw bad('epoch must be a finite number')
  if (typeof record.updatedAt !== 'number' || !Number.isFinite(record.updatedAt)) throw bad('updatedAt must be epoch ms')
  if (record.openedAt !== null && (typeof record.openedAt !== 'number' || !Number.isFinite(record.openedAt))) {
    throw bad('openedAt must be epoch ms or null')
  }
}
