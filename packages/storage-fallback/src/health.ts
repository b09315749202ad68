/**
 * The small breaker a chain keeps per backend. Pure bookkeeping over timestamps from the
 * injected clock and a count of attempts: no timers, and nothing to read on the hot path while
 * the backend is healthy (`unhealthyUntil` stays 0, so the chain never even asks the clock).
 *
 * Every attempt on the backend takes a ticket (a number that grows by one per attempt). When
 * the backend is marked unhealthy, the tickets handed out so far are "older than the mark": their
 * late answers say nothing about the backend now, so they neither clear the mark nor extend it.
 * Only an attempt started after the mark — the probe — can.
 */
export class BackendHealth {
  /** Failures in a row; a success resets it. */
  consecutiveFailures = 0
  /** Until when the backend is skipped (epoch ms); 0 while it is healthy. */
  unhealthyUntil = 0
  /**
   * True while the one operation allowed through after the skip window is in flight: every
   * other operation keeps skipping, so a backend that still hangs costs one deadline, not one
   * per concurrent caller.
   */
  probing = false
  /** What the backend's `ready()` answered last; a change means the chain reads elsewhere now. */
  ready = true
  /**
   * Promise answers received so far. An attempt notes it when it starts: if it then misses its
   * deadline while others got answers, the backend is alive and the wait was a queue (this
   * process or its connection too busy), not an outage. Synchronous answers are not counted:
   * they prove nothing about a remote server (a client may answer from a local copy).
   */
  answers = 0
  /** Tickets handed out so far. */
  private issued = 0
  /** Last ticket handed out before the backend was marked; 0 while healthy. */
  private markedAfter = 0
  /** Wait before the next probe (ms): `recoverAfter`, doubling after each failed probe up to `unhealthyFor`. */
  private delay: number

  constructor(
    private readonly unhealthyAfter: number,
    private readonly recoverAfter: number,
    private readonly unhealthyFor: number,
  ) {
    this.delay = Math.min(recoverAfter, unhealthyFor)
  }

  /** True when the backend is marked unhealthy (skipped or on probation). */
  get marked(): boolean {
    return this.unhealthyUntil !== 0
  }

  /** A ticket for an attempt starting now; pass it back to {@link success} or {@link failure}. */
  ticket(): number {
    return ++this.issued
  }

  /**
   * Whether an operation starting at `now` (epoch ms) must skip the backend. Once the window
   * has passed, the first caller becomes the probe and is let through.
   */
  skip(now: number): boolean {
    if (this.probing || now < this.unhealthyUntil) return true
    this.probing = true
    return false
  }

  /**
   * Records a failure of the attempt `ticket` at `now`. Answers `'marked'` when it marks the
   * backend unhealthy (the `unhealthyAfter`-th failure in a row), `'remarked'` for a failed probe
   * (which doubles the wait before the next one, up to `unhealthyFor`), else `undefined`. A
   * failure of an attempt older than the mark changes nothing.
   */
  failure(ticket: number, now: number): 'marked' | 'remarked' | undefined {
    if (this.unhealthyUntil !== 0) {
      if (ticket <= this.markedAfter) return undefined
      this.probing = false
      this.consecutiveFailures++
      this.delay = Math.min(this.delay * 2, this.unhealthyFor)
      this.mark(now)
      return 'remarked'
    }
    this.consecutiveFailures++
    if (this.consecutiveFailures < this.unhealthyAfter) return undefined
    this.delay = Math.min(this.recoverAfter, this.unhealthyFor)
    this.mark(now)
    return 'marked'
  }

  /**
   * An attempt failed in a way that is not the backend's fault (this process stalled past the
   * deadline): nothing is counted, but a probe that ended so leaves room for the next one.
   */
  excused(ticket: number): void {
    if (this.unhealthyUntil !== 0 && ticket > this.markedAfter) this.probing = false
  }

  /**
   * Records a success of the attempt `ticket`; answers true when it clears a mark. While the
   * backend is marked only an attempt started after the mark counts: an older one answering
   * late proves nothing about the backend now.
   */
  success(ticket: number): boolean {
    if (this.unhealthyUntil === 0) {
      this.consecutiveFailures = 0
      return false
    }
    if (ticket <= this.markedAfter) return false
    this.reset()
    return true
  }

  /** Forgets everything: the backend is healthy with no failures counted. */
  reset(): void {
    this.consecutiveFailures = 0
    this.unhealthyUntil = 0
    this.markedAfter = 0
    this.probing = false
    this.delay = Math.min(this.recoverAfter, this.unhealthyFor)
  }

  private mark(now: number): void {
    this.markedAfter = this.issued
    // `|| 1`: a zero wait must still read as marked (0 means healthy).
    this.unhealthyUntil = now + this.delay || 1
  }
}
