import { channels, publish } from './channels.js'
import type { RejectMessage, TransitionMessage } from './channels.js'
import { isThenable } from './maybe.js'
import type { CircuitHooks, StorageErrorContext } from './options.js'
import type { StorageError } from './errors.js'
import type { CircuitState, MaybePromise } from './types.js'

const TRANSITION_HOOK: Record<CircuitState, 'open' | 'close' | 'halfOpen'> = {
  open: 'open',
  closed: 'close',
  half_open: 'halfOpen',
}

/**
 * Calls a circuit's hooks and publishes the matching channel messages. No hook can break a
 * call: a throw or a rejection is caught and reported on `breaker:circuit:hook_error`.
 */
export class HookRunner {
  readonly #circuit: string
  readonly #hooks: CircuitHooks

  constructor(circuit: string, hooks: CircuitHooks) {
    this.#circuit = circuit
    this.#hooks = hooks
  }

  /** A transition that this instance made: specific hook, then `stateChange`, then the channel. */
  transition(event: TransitionMessage): void {
    this.#call(TRANSITION_HOOK[event.to], event)
    this.#call('stateChange', event)
    publish(channels.transition, event)
  }

  /** A rejected call. */
  reject(event: RejectMessage): void {
    this.#call('reject', event)
    publish(channels.reject, event)
  }

  /** A failed storage operation. */
  storageError(error: StorageError, context: StorageErrorContext): void {
    this.#call('storageError', error, context)
    publish(channels.storageError, { circuit: context.circuit, storage: error.storage, operation: context.operation, error })
  }

  /** True when a `beforeTransition` hook is set, so the transition path can stay synchronous without one. */
  get hasBeforeTransition(): boolean {
    return this.#hooks.beforeTransition !== undefined
  }

  /**
   * Runs `beforeTransition` and answers what it answered when that is a function (a release to
   * call once the transition is written), else `undefined`. Failures are reported, never thrown.
   */
  beforeTransition(event: TransitionMessage): MaybePromise<(() => unknown) | undefined> {
    const hook = this.#hooks.beforeTransition
    if (!hook) return undefined
    const pick = (value: unknown) => (typeof value === 'function' ? (value as () => unknown) : undefined)
    try {
      const answer = hook(event)
      if (!isThenable(answer)) return pick(answer)
      return answer.then(pick, (error: unknown) => {
        this.error('beforeTransition', error)
        return undefined
      })
    } catch (error) {
      this.error('beforeTransition', error)
      return undefined
    }
  }

  /** Calls a release returned by `beforeTransition`, reporting its failure. */
  release(release: (() => unknown) | undefined): void {
    if (!release) return
    try {
      const answer = release()
      if (isThenable(answer)) answer.then(undefined, (error: unknown) => this.error('beforeTransition.release', error))
    } catch (error) {
      this.error('beforeTransition.release', error)
    }
  }

  /** Reports a hook failure on the channel. */
  error(hook: string, error: unknown): void {
    publish(channels.hookError, { circuit: this.#circuit, hook, error })
  }

  #call(name: keyof CircuitHooks, ...args: unknown[]): void {
    const hook = this.#hooks[name] as ((...a: unknown[]) => unknown) | undefined
    if (!hook) return
    try {
      const answer = hook(...args)
      if (isThenable(answer)) answer.then(undefined, (error: unknown) => this.error(name, error))
    } catch (error) {
      this.error(name, error)
    }
  }
}
