import { andThen, isThenable } from '@breaker/core'
import type { MaybePromise, StatusRecord, WindowCounts } from '@breaker/core'

/** What one backend missed about one circuit while it was away. */
export interface PendingWrite {
  /** When the circuit was cleared elsewhere (epoch ms), 0 if it was not: clear it here first. */
  cleared: number
  /** The newest status written below (highest epoch, then latest `updatedAt`). */
  status: StatusRecord | null
  /** Outcomes counted below and not yet written here. */
  failures: number
  successes: number
  /** Largest window (ms) the circuit asked about; only shapes the (ignored) answer of `recordBatch`. */
  windowMs: number
  /** The write-back of this entry in flight, so two never run at once. */
  flushing: Promise<void> | undefined
}

/**
 * The per-backend memory of writes that went to a lower backend while this one was failing or
 * skipped. Bounded: past `max` circuits the oldest entry is dropped (and counted in `dropped`),
 * because a long outage under many circuits must not grow the heap without end.
 */
export class WriteBackLedger {
  readonly entries = new Map<string, PendingWrite>()
  /** `clearAll` happened elsewhere while this backend was away. */
  clearAll = false
  /** Entries dropped because the ledger was full. */
  dropped = 0

  constructor(private readonly max: number) {}

  /** Circuits waiting to be written back. */
  get size(): number {
    return this.entries.size + (this.clearAll ? 1 : 0)
  }

  /** Whether an operation on `circuit` must first write back what this backend missed. */
  owes(circuit: string): boolean {
    return this.clearAll || (this.entries.size !== 0 && this.entries.has(circuit))
  }

  private entry(circuit: string): PendingWrite {
    let entry = this.entries.get(circuit)
    if (entry === undefined) {
      if (this.entries.size >= this.max) {
        const oldest = this.entries.keys().next().value as string
        this.entries.delete(oldest)
        this.dropped++
      }
      entry = { cleared: 0, status: null, failures: 0, successes: 0, windowMs: 0, flushing: undefined }
      this.entries.set(circuit, entry)
    }
    return entry
  }

  /** A status reached a lower backend. */
  noteStatus(circuit: string, record: StatusRecord): void {
    const entry = this.entry(circuit)
    if (entry.status === null || newer(record, entry.status)) entry.status = record
  }

  /** Outcomes reached a lower backend. */
  noteCounts(circuit: string, failures: number, successes: number, windowMs: number): void {
    const entry = this.entry(circuit)
    entry.failures += failures
    entry.successes += successes
    if (windowMs > entry.windowMs) entry.windowMs = windowMs
  }

  /** A write this backend was given up on landed after all: do not write it a second time. */
  unnoteCounts(circuit: string, failures: number, successes: number): void {
    const entry = this.entries.get(circuit)
    if (entry === undefined) return
    entry.failures = Math.max(0, entry.failures - failures)
    entry.successes = Math.max(0, entry.successes - successes)
  }

  /** The circuit was cleared below at `at` (epoch ms): what this backend holds about it is stale. */
  noteClear(circuit: string, at: number): void {
    const entry = this.entry(circuit)
    entry.cleared = at
    entry.status = null
    entry.failures = 0
    entry.successes = 0
  }

  /** Everything was cleared below. */
  noteClearAll(): void {
    this.entries.clear()
    this.clearAll = true
  }

  /** This backend itself was cleared of `circuit`: nothing is owed for it. */
  forget(circuit: string): void {
    this.entries.delete(circuit)
  }

  /** This backend itself was cleared of everything. */
  reset(): void {
    this.entries.clear()
    this.clearAll = false
  }
}

/** Whether `a` is a newer transition than `b`: a higher epoch, or the same epoch written later. */
export function newer(a: StatusRecord, b: StatusRecord): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.updatedAt > b.updatedAt)
}

/** The calls a write-back makes on the backend being repaired, each already under its deadline. */
export interface WriteBackTarget {
  clear(circuit: string): MaybePromise<unknown>
  clearAll(): MaybePromise<unknown>
  getStatus(circuit: string): MaybePromise<StatusRecord | null>
  /** CAS when the backend offers it, else an unconditional write answering `true`. */
  putStatus(circuit: string, expectedEpoch: number, record: StatusRecord): MaybePromise<boolean>
  recordBatch(circuit: string, batch: WindowCounts, windowMs: number): MaybePromise<unknown>
}

/**
 * Writes back what `ledger` holds for `circuit`: a pending `clearAll`, then a pending clear,
 * then the status, then (with `withCounts`) the counts. Each step marks its part done only once
 * it succeeded, so a write-back cut short by a failure resumes where it stopped. Stays
 * synchronous when the backend is.
 *
 * Clears and status writes are idempotent (a status is written only if it still supersedes),
 * so they may be retried on a backend that just failed. Counts are not: a backend that timed
 * out may still apply an earlier batch late, so they are sent only by the caller's choice.
 */
export function flushCircuit(
  ledger: WriteBackLedger,
  circuit: string,
  target: WriteBackTarget,
  withCounts: boolean,
): MaybePromise<void> {
  const pre = ledger.clearAll ? andThen(target.clearAll(), () => void (ledger.clearAll = false)) : undefined
  const entry = ledger.entries.get(circuit)
  if (entry === undefined) return pre
  if (entry.flushing !== undefined) return andThen(pre, () => entry.flushing)
  const run = andThen(pre, () => {
    const cleared = entry.cleared !== 0 ? clearUnlessRewritten(entry, circuit, target) : undefined
    return andThen(cleared, () =>
      andThen(writeStatus(entry, circuit, target, 3), () => {
        const failures = entry.failures
        const successes = entry.successes
        if (!withCounts || (failures === 0 && successes === 0)) return undefined
        const windowMs = entry.windowMs || 60_000
        return andThen(target.recordBatch(circuit, { failures, successes }, windowMs), () => {
          entry.failures -= failures
          entry.successes -= successes
        })
      }),
    )
  })
  const done = (): void => {
    entry.flushing = undefined
    if (entry.cleared === 0 && entry.status === null && entry.failures === 0 && entry.successes === 0) {
      if (ledger.entries.get(circuit) === entry) ledger.entries.delete(circuit)
    }
  }
  if (!isThenable(run)) {
    done()
    return undefined
  }
  const flushing = run.then(done, (error: unknown) => {
    entry.flushing = undefined
    throw error
  })
  entry.flushing = flushing
  return flushing
}

/**
 * A clear owed to a shared backend must not wipe what another instance wrote there after it:
 * when the stored status is newer than the clear, the clear is dropped.
 */
function clearUnlessRewritten(entry: PendingWrite, circuit: string, target: WriteBackTarget): MaybePromise<void> {
  const at = entry.cleared
  return andThen(target.getStatus(circuit), (stored) => {
    if (stored !== null && stored.updatedAt > at) {
      if (entry.cleared === at) entry.cleared = 0
      return undefined
    }
    return andThen(target.clear(circuit), () => {
      if (entry.cleared === at) entry.cleared = 0
    })
  })
}

/**
 * The record to write over `stored` so that `learned` (a status written below) wins, or `null`
 * when `stored` is at least as new. See {@link writeStatus} for the rule.
 */
export function supersede(stored: StatusRecord | null, learned: StatusRecord): StatusRecord | null {
  const storedEpoch = stored?.epoch ?? 0
  if (stored !== null && !(learned.epoch > storedEpoch || learned.updatedAt > stored.updatedAt)) return null
  return learned.epoch > storedEpoch ? learned : { ...learned, epoch: storedEpoch + 1 }
}

/**
 * What a backend that still owes a write-back for `circuit` should have answered to `op`: its
 * own answer merged with what it missed. Mostly the counts taken below, which are written back
 * only once the backend has answered (see `flushCircuit`): so the first operation after an
 * outage already answers from the whole picture. Nothing is merged while a write-back of the
 * circuit is in flight, since its counts may already be in the answer.
 */
export function mergeOwed(ledger: WriteBackLedger, op: string, circuit: string, value: unknown): unknown {
  const entry = ledger.entries.get(circuit)
  if (entry === undefined || entry.flushing !== undefined) return value
  switch (op) {
    case 'getStatus': {
      let stored = value as StatusRecord | null
      if (entry.cleared !== 0 && stored !== null && stored.updatedAt <= entry.cleared) stored = null
      return entry.status === null ? stored : (supersede(stored, entry.status) ?? stored)
    }
    case 'failureCount':
      return (value as number) + entry.failures
    case 'successCount':
      return (value as number) + entry.successes
    case 'record':
    case 'recordBatch': {
      const counts = value as WindowCounts
      return { failures: counts.failures + entry.failures, successes: counts.successes + entry.successes }
    }
    default:
      return value
  }
}

/**
 * The newest transition wins. Epochs count transitions of one store, so across two stores that
 * diverged during an outage they are not comparable on their own: the record learned below
 * wins when its epoch is higher or when it was written later (`updatedAt`, epoch ms). It is then
 * written with an epoch above the stored one, so the backend's epoch only ever grows — that is
 * what keeps a trip during the outage from being forgotten when the primary already had
 * history. A lost CAS race re-reads and decides again, a few times at most.
 */
function writeStatus(entry: PendingWrite, circuit: string, target: WriteBackTarget, tries: number): MaybePromise<void> {
  const record = entry.status
  if (record === null) return undefined
  return andThen(target.getStatus(circuit), (stored) => {
    const write = supersede(stored, record)
    if (write === null) {
      if (entry.status === record) entry.status = null
      return undefined
    }
    return andThen(target.putStatus(circuit, stored?.epoch ?? 0, write), (won) => {
      if (won || tries <= 1) {
        if (entry.status === record) entry.status = null
        return undefined
      }
      return writeStatus(entry, circuit, target, tries - 1)
    })
  })
}
