import { isCircuitOpenError } from '@breaker/core'

/**
 * Traffic generator: calls every circuit `rate` times a second while enabled, so the circuits
 * have something to protect without any client. Outcomes are tallied for the dashboard.
 */
export class Traffic {
  enabled = true
  /** Calls per second, per circuit, in this worker. */
  rate
  #timer = undefined
  #targets
  #tally = new Map()

  /** @param targets `() => [{ name, call }]`, read on every tick so added circuits join. */
  constructor(targets, { rate = 10, enabled = true } = {}) {
    this.#targets = targets
    this.rate = rate
    this.enabled = enabled
  }

  /**
   * Applies `{ enabled, rate }`; fields left out keep their value.
   * @param {{ enabled?: boolean, rate?: number }} settings
   */
  configure({ enabled, rate } = {}) {
    if (enabled !== undefined) this.enabled = enabled
    if (rate !== undefined) this.rate = rate
    this.#schedule()
    return this.settings()
  }

  settings() {
    return { enabled: this.enabled, rate: this.rate }
  }

  start() {
    this.#schedule()
  }

  stop() {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Outcome counts per circuit since start: `{ ok, failed, rejected }`. */
  tally(name) {
    let t = this.#tally.get(name)
    if (!t) this.#tally.set(name, (t = { ok: 0, failed: 0, rejected: 0 }))
    return t
  }

  #schedule() {
    this.stop()
    if (!this.enabled || !(this.rate > 0)) return
    // One timer for all circuits; each tick fires one call per circuit, never awaited.
    this.#timer = setInterval(() => this.#tick(), Math.max(2, Math.round(1000 / this.rate)))
  }

  #tick() {
    for (const target of this.#targets()) {
      const t = this.tally(target.name)
      target.call().then(
        () => t.ok++,
        (error) => (isCircuitOpenError(error) ? t.rejected++ : t.failed++),
      )
    }
  }
}
