/**
 * The small breaker a chain keeps per backend. Pure bookkeeping over timestamps from the
 * injected clock: no timers, and nothing to read on the hot path while the backend is healthy
 * (`unhealthyUntil` stays 0, so the chain never even asks the clock).
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

  constructor(
    private readonly unhealthyAfter: number,
    private readonly unhealthyFor: number,
  ) {}

  /** True when the backend is marked unhealthy (skipped or on probation). */
  get marked(): boolean {
    return this.unhealthyUntil !== 0
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

  /** Records a failure at `now`; answers true when it (re)marks the backend unhealthy. */
  failure(now: number): boolean {
    this.probing = false
    this.consecutiveFailures++
    if (this.consecutiveFailures < this.unhealthyAfter) return false
    this.unhealthyUntil = now + this.unhealthyFor
    return true
  }

  /** Records a success; answers true when the backend was marked unhealthy until now. */
  success(): boolean {
    const wasMarked = this.unhealthyUntil !== 0
    this.consecutiveFailures = 0
    this.unhealthyUntil = 0
    this.probing = false
    return wasMarked
  }

  /** Forgets everything: the backend is healthy with no failures counted. */
  reset(): void {
    this.consecutiveFailures = 0
    this.unhealthyUntil = 0
    this.probing = false
  }
}
