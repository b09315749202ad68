import { StorageError } from '@breaker/core'

/** Contract methods a storage may offer beyond the required ones; forwarded only when present. */
const OPTIONAL = ['compareAndSetStatus', 'acquireProbe', 'record', 'recordBatch', 'eventLog', 'subscribe']
const REQUIRED = ['getStatus', 'setStatus', 'recordSuccess', 'recordFailure', 'successCount', 'failureCount', 'clear', 'clearAll']

/** The modes the "break the primary storage" control flips between. */
export const BREAK_MODES = Object.freeze(['ok', 'throw', 'hang'])

/**
 * Wraps a storage so the dashboard can break it on purpose: `'throw'` makes every operation
 * fail with a `StorageError`, `'hang'` makes it answer never (the fallback chain's deadline
 * then abandons it). `'ok'` passes through untouched, synchronous answers staying synchronous.
 * It keeps the inner storage's name and capabilities, so the chain treats it as that backend.
 */
export class BreakableStorage {
  /** `'ok' | 'throw' | 'hang'`. */
  mode = 'ok'
  #inner

  constructor(inner) {
    this.#inner = inner
    this.name = inner.name
    this.capabilities = inner.capabilities
    for (const method of [...REQUIRED, ...OPTIONAL]) {
      if (typeof inner[method] !== 'function') continue
      // subscribe is not an operation on the wire: pushes keep flowing whatever the mode.
      this[method] =
        method === 'subscribe' ? (listener) => inner.subscribe(listener) : (...args) => this.#run(method, args)
    }
  }

  /** The wrapped storage. */
  get inner() {
    return this.#inner
  }

  #run(method, args) {
    if (this.mode === 'throw') {
      throw new StorageError(this.name, method, `[@breaker/demo] ${this.name} is broken on purpose (mode 'throw')`, {
        circuit: typeof args[0] === 'string' ? args[0] : undefined,
      })
    }
    // A promise that never settles and holds no timer: once the chain abandons it, it is garbage.
    if (this.mode === 'hang') return new Promise(() => {})
    return this.#inner[method](...args)
  }

  close() {
    return this.#inner.close?.() ?? Promise.resolve()
  }
}
