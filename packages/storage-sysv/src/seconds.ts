import { MAX_EPOCH_MS } from '@breaker/core/kit'
import type { Clock } from '@breaker/core'

/** Uses of one clock reading before the clock is read again, even within one second. */
const REUSES = 256

/**
 * The current epoch second, for the per-second counters.
 *
 * Reading `Date.now()` is ~40 ns, about 40 % of a record-and-count, and the counters only need
 * the second. With the default clock, one reading serves until the second ends — a timer set
 * for that instant (one per storage, unref'd, set only while outcomes are recorded) ends it —
 * or until it has served {@link REUSES} calls, whichever comes first. A timer is never early
 * in a way that matters (an early end only costs one more reading); when it is late because
 * the event loop is busy, the reuse limit bounds how many outcomes count in the second that
 * just ended. An injected clock is read on every call: tests move it between calls.
 */
export class Seconds {
  private second = 0
  private uses = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly expire = (): void => {
    this.timer = undefined
    this.uses = 0
  }

  constructor(
    private readonly clock: Clock,
    /** Reuse readings (only for the default wall clock). */
    private readonly reuse: boolean,
  ) {}

  /** The current epoch second (0 for a clock answering something that is not epoch ms). */
  now(): number {
    if (this.uses > 0) {
      this.uses--
      return this.second
    }
    const now = this.clock()
    const second = now > 0 && now <= MAX_EPOCH_MS ? Math.floor(now / 1000) : 0
    if (this.reuse) {
      this.second = second
      this.uses = REUSES
      if (this.timer === undefined) {
        this.timer = setTimeout(this.expire, 1000 - (now % 1000))
        this.timer.unref()
      }
    }
    return second
  }

  /** Stops the timer (close, destroy); later calls read the clock again. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.uses = 0
  }
}
