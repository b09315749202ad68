/**
 * The simulated upstream every demo circuit protects: a "remote service" inside the process
 * whose failure rate and latency the dashboard controls, so nothing outside is needed.
 */

/** Thrown by the simulated upstream for a failed request. */
export class UpstreamError extends Error {
  constructor(message) {
    super(message)
    this.name = 'UpstreamError'
  }
}

/** Settings accepted by {@link Upstream#configure}; the API validates before they get here. */
export const UPSTREAM_LIMITS = Object.freeze({ maxLatencyMs: 10_000 })

export class Upstream {
  /** Share of requests that fail, 0..1. */
  failureRate = 0
  /** Mean latency of one request (ms); each request varies ±25 % around it. */
  latencyMs = 20

  /**
   * Applies the given settings; fields left out keep their value.
   * @param {{ failureRate?: number, latencyMs?: number }} settings
   */
  configure({ failureRate, latencyMs } = {}) {
    if (failureRate !== undefined) this.failureRate = failureRate
    if (latencyMs !== undefined) this.latencyMs = latencyMs
    return this.settings()
  }

  settings() {
    return { failureRate: this.failureRate, latencyMs: this.latencyMs }
  }

  /**
   * One request. Resolves after the latency, or rejects with an {@link UpstreamError} at the
   * failure rate; aborting the signal (the circuit's `timeout`) ends it at once.
   */
  request(signal) {
    const latency = Math.max(0, this.latencyMs * (0.75 + Math.random() * 0.5))
    // Decided up front so a request's fate does not depend on a setting changed mid-flight.
    const fails = Math.random() < this.failureRate
    return new Promise((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener('abort', aborted)
        if (fails) reject(new UpstreamError(`upstream answered 503 after ${Math.round(latency)} ms`))
        else resolve({ status: 200, latencyMs: Math.round(latency) })
      }
      const timer = setTimeout(done, latency)
      const aborted = () => {
        clearTimeout(timer)
        reject(signal.reason ?? new UpstreamError('aborted'))
      }
      if (signal?.aborted) return aborted()
      signal?.addEventListener('abort', aborted, { once: true })
    })
  }
}
