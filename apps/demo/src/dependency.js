import { Circuit, isCircuitOpenError } from '@breaker/core'

/** Actions the dashboard can take on `payments`. */
export const PAYMENTS_ACTIONS = Object.freeze({ trip: 'trip', 'force-open': 'forceOpen', 'force-close': 'forceClose', 'hard-reset': 'hardReset' })
/** Failing calls `trip` makes at most before giving up (traffic may have filled the window with successes). */
const TRIP_MAX_CALLS = 2_000

/** Thrown by the simulated payments upstream while `trip` runs. */
export class PaymentsDown extends Error {
  constructor() {
    super('payments upstream answered 503 (tripped from the dashboard)')
    this.name = 'PaymentsDown'
  }
}

/**
 * The dependency panel of one worker: `payments` and `checkout`, where checkout `dependsOn`
 * payments. Both live on storage every worker shares (SysV, else Redis), so when payments opens
 * on any worker, every worker's checkout turns calls away with `CircuitDependencyError` without
 * running them, and serves again once payments closes. They join a registry of their own (names
 * in `dependsOn` resolve there), so they are not the matrix's circuits of the same names.
 */
export class DependencyLab {
  /** checkout outcomes on this worker: `{ ok, dependency, other }`, and the last one. */
  #tally = { ok: 0, dependency: 0, other: 0 }
  #last = null

  constructor({ registry, storage, label, scope, worker, options = {} }) {
    this.worker = worker
    this.storage = { label, scope }
    this.payments = new Circuit('payments', { ...options, storage, registry })
    this.checkout = new Circuit('checkout', { ...options, storage, registry, dependsOn: ['payments'] })
  }

  /** One checkout call (its work always succeeds): answers how it went, never rejects. */
  async callCheckout() {
    const at = Date.now()
    try {
      await this.checkout.call(() => 'order placed')
      this.#tally.ok++
      this.#last = { at, ok: true }
    } catch (error) {
      const dependency = error.code === 'ERR_CIRCUIT_DEPENDENCY'
      this.#tally[dependency ? 'dependency' : 'other']++
      this.#last = { at, ok: false, error: { name: error.name, code: error.code ?? null, dependency: error.dependency ?? null, message: error.message } }
    }
    return { worker: this.worker, ...this.#last }
  }

  /** One payments call that succeeds (traffic keeps payments warm and lets it close after a trip). */
  callPayments() {
    return this.payments.call(() => 'charged').catch(() => undefined)
  }

  /**
   * `trip`: payments' upstream fails until payments opens by its own threshold; the others are
   * the circuit's own `forceOpen`, `forceClose`, `hardReset`. Acts on this worker's instance:
   * the shared storage carries it to every worker.
   */
  async act(action) {
    const op = PAYMENTS_ACTIONS[action]
    let calls = 0
    if (op === 'trip') {
      for (; calls < TRIP_MAX_CALLS; calls++) {
        const rejected = await this.payments.call(() => Promise.reject(new PaymentsDown())).then(
          () => false,
          (error) => isCircuitOpenError(error),
        )
        if (rejected) break
      }
    } else {
      await this.payments[op]()
    }
    const s = await this.payments.stats()
    return { worker: this.worker, action, state: s.state, epoch: s.epoch, ...(op === 'trip' ? { failingCalls: calls } : {}) }
  }

  /** What the dashboard draws for this worker. */
  async report() {
    const [payments, checkout] = await Promise.all([this.payments.stats(), this.checkout.stats()])
    const pick = (s) => ({ state: s.state, epoch: s.epoch, failures: s.failures, rejections: s.rejections })
    return { worker: this.worker, storage: this.storage, payments: pick(payments), checkout: { ...pick(checkout), calls: { ...this.#tally }, last: this.#last } }
  }

  async dispose() {
    await this.checkout.dispose()
    await this.payments.dispose()
  }
}
