import type { WindowCounts } from './types.js'

/** Outcomes counted locally and not yet written, all from calls admitted in one phase. */
export class PendingBatch {
  failures = 0
  successes = 0
  /** When the oldest pending outcome was counted (epoch ms). */
  since = 0
  /** Phase the pending outcomes were admitted in (compared by identity). */
  phase: object | undefined = undefined
  /** Counts answered by the last write: the base the pending outcomes add to. */
  last: WindowCounts = { failures: 0, successes: 0 }

  get size(): number {
    return this.failures + this.successes
  }

  /** Adds one outcome; outcomes of an earlier phase are dropped first. */
  add(failure: boolean, phase: object, now: number): void {
    if (phase !== this.phase) {
      this.failures = 0
      this.successes = 0
      this.phase = phase
      this.last = { failures: 0, successes: 0 }
    }
    if (this.size === 0) this.since = now
    if (failure) this.failures++
    else this.successes++
  }

  /** Counts the window would show if the pending outcomes were written now. */
  estimate(): WindowCounts {
    return { failures: this.last.failures + this.failures, successes: this.last.successes + this.successes }
  }

  /** Takes the pending outcomes for a write, leaving the batch empty. */
  take(): WindowCounts {
    const taken = { failures: this.failures, successes: this.successes }
    this.failures = 0
    this.successes = 0
    return taken
  }
}

/** Something with pending outcomes that the shared sweeper flushes once they are due. */
export interface Flushable {
  /** Writes pending outcomes if they are due; answers whether anything is still pending. */
  sweep(): boolean
}

// One timer for every batching circuit in the process, running only while some batch holds
// outcomes: every pending batch is written in the same tick (a storage that coalesces a tick's
// writes makes one round trip for all of them), with no timer per circuit.
const waiting = new Set<Flushable>()
let timer: ReturnType<typeof setInterval> | undefined
let period = Infinity

/** Asks the shared sweeper to look at `batch` every `interval` ms until it has nothing pending. */
export function sweepLater(batch: Flushable, interval: number): void {
  waiting.add(batch)
  if (timer !== undefined && interval >= period) return
  if (timer !== undefined) clearInterval(timer)
  period = interval
  timer = setInterval(sweepAll, interval)
  timer.unref()
}

function sweepAll(): void {
  for (const batch of waiting) {
    if (!batch.sweep()) waiting.delete(batch)
  }
  if (waiting.size === 0 && timer !== undefined) {
    clearInterval(timer)
    timer = undefined
    period = Infinity
  }
}
