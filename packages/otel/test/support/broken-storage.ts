import { BaseStorage } from '@breaker/core'
import type { StorageCapabilities } from '@breaker/core'

/** The error a lost connection throws in these tests. */
export class ConnectionLost extends Error {
  override name = 'ConnectionLost'
}

/** A backend whose every operation throws, like a client whose server went away. */
export class BrokenStorage extends BaseStorage {
  readonly name: string
  readonly capabilities: StorageCapabilities = { scope: 'cluster', atomic: true, cas: false, leases: false, subscribe: false }

  constructor(name = 'primary') {
    super()
    this.name = name
  }

  #fail(): never {
    throw new ConnectionLost(`${this.name} is unreachable`)
  }

  getStatus(): never {
    return this.#fail()
  }
  setStatus(): never {
    return this.#fail()
  }
  recordSuccess(): never {
    return this.#fail()
  }
  recordFailure(): never {
    return this.#fail()
  }
  successCount(): never {
    return this.#fail()
  }
  failureCount(): never {
    return this.#fail()
  }
  override record(): never {
    return this.#fail()
  }
  clear(): never {
    return this.#fail()
  }
  clearAll(): never {
    return this.#fail()
  }
}
