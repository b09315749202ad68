import { readStoredStatus } from '@breaker/core/kit'
import type { CircuitState, StatusRecord } from '@breaker/core'
import { H, R, S, STATUS_RECORD_BYTES } from './layout.js'
import type { SlotEntry } from './slots.js'

// State codes as stored; 0 = no status written.
const CODES: Record<CircuitState, number> = { closed: 1, open: 2, half_open: 3 }
const STATES: readonly CircuitState[] = ['closed', 'open', 'half_open']
const STORAGE = 'sysv'

/**
 * The circuit status in a slot: two record copies and a version whose low bit says which copy
 * is current (a seqlock with double buffering). Writers — already serialised by the write lock —
 * fill the other copy and then publish it by bumping the version, so a writer killed half-way
 * leaves the current copy untouched and readers never wait. Readers take the version, read the
 * current copy, and retry if the version moved meanwhile.
 *
 * What is read goes through core's one validator (`readStoredStatus`): shared memory can hold
 * anything another process, an older version or a stray write left there, and a record that is
 * not valid is reported as corrupt and read as absent, never handed to a circuit.
 */
export class StatusCells {
  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
  ) {}

  /**
   * The current record of the slot in `entry`, or `null` when none (or a corrupt one) is stored.
   * Decodes only when the slot's version moved since `entry` last decoded it.
   */
  read(entry: SlotEntry, circuit: string, operation: string): StatusRecord | null {
    if (Atomics.load(this.i32, (entry.offset + S.STATUS_VERSION) >> 2) === entry.version) return entry.record
    const version = this.snapshot(entry.offset)
    entry.record = this.decode(circuit, operation)
    entry.version = version
    return entry.record
  }

  /** The current record of the slot at byte offset `slot`, decoded afresh. */
  readAt(slot: number, circuit: string, operation: string): StatusRecord | null {
    this.snapshot(slot)
    return this.decode(circuit, operation)
  }

  /** The stored epoch (0 when no valid status is stored). Only meaningful under the write lock. */
  epoch(slot: number, circuit: string, operation: string): number {
    return this.readAt(slot, circuit, operation)?.epoch ?? 0
  }

  /**
   * Publishes `record` (or no status, for `null`) and answers the new version; the caller
   * holds the write lock and has validated `record`.
   */
  write(slot: number, record: StatusRecord | null): number {
    const { i32, f64 } = this
    const version = (slot + S.STATUS_VERSION) >> 2
    const next = (Atomics.load(i32, version) + 1) | 0
    const at = slot + S.STATUS + (next & 1) * STATUS_RECORD_BYTES
    f64[(at + R.EPOCH) >> 3] = record?.epoch ?? 0
    f64[(at + R.OPENED_AT) >> 3] = record?.openedAt ?? Number.NaN
    f64[(at + R.UPDATED_AT) >> 3] = record?.updatedAt ?? 0
    f64[(at + R.BACKOFF) >> 3] = record?.backoff ?? 0
    f64[(at + R.HOLDS) >> 3] = record?.holds ?? 0
    Atomics.store(i32, (at + R.CODE) >> 2, record === null ? 0 : CODES[record.status])
    Atomics.store(i32, version, next)
    Atomics.add(i32, H.STATUS_CHANGES, 1)
    return next
  }

  // The raw fields of the last snapshot; kept on the instance so a read allocates nothing
  // until it has a record to answer.
  private code = 0
  private rawEpoch = 0
  private rawOpenedAt = 0
  private rawUpdatedAt = 0
  private rawBackoff = 0
  private rawHolds = 0

  /** Copies the current record's fields under the seqlock; answers the version they belong to. */
  private snapshot(slot: number): number {
    const { i32, f64 } = this
    const version = (slot + S.STATUS_VERSION) >> 2
    for (;;) {
      const seen = Atomics.load(i32, version)
      const at = slot + S.STATUS + (seen & 1) * STATUS_RECORD_BYTES
      this.code = Atomics.load(i32, (at + R.CODE) >> 2)
      this.rawEpoch = f64[(at + R.EPOCH) >> 3]!
      this.rawOpenedAt = f64[(at + R.OPENED_AT) >> 3]!
      this.rawUpdatedAt = f64[(at + R.UPDATED_AT) >> 3]!
      this.rawBackoff = f64[(at + R.BACKOFF) >> 3]!
      this.rawHolds = f64[(at + R.HOLDS) >> 3]!
      if (Atomics.load(i32, version) === seen) return seen
    }
  }

  private decode(circuit: string, operation: string): StatusRecord | null {
    const { code } = this
    if (code === 0) return null
    const record = readStoredStatus(
      {
        // An unknown code reaches the validator as such, so the report names it.
        status: STATES[code - 1] ?? `state code ${code}`,
        // NaN is how "never opened" (null) is stored.
        openedAt: Number.isNaN(this.rawOpenedAt) ? null : this.rawOpenedAt,
        epoch: this.rawEpoch,
        updatedAt: this.rawUpdatedAt,
        // 0 is how "absent" is stored; the validator leaves 0 out of the record, as it was written.
        backoff: this.rawBackoff,
        holds: this.rawHolds,
      },
      { storage: STORAGE, circuit, operation },
    )
    // Frozen: the same object answers every read until the version moves.
    return record === null ? null : Object.freeze(record)
  }
}
