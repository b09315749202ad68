import type { Storage } from './storage.js'
import type { StatusRecord, StorageCapabilities, WindowCounts } from './types.js'

const ZERO: WindowCounts = Object.freeze({ failures: 0, successes: 0 })

/**
 * Remembers nothing: writes do nothing, counts are 0, status is `null`, so a circuit on it
 * never trips (fail-open). The last link of a fallback chain.
 */
export class NullStorage implements Storage {
  readonly name = 'null'
  readonly capabilities: StorageCapabilities = Object.freeze({
    scope: 'process',
    atomic: true,
    cas: false,
    leases: false,
    subscribe: false,
    stateless: true,
  })

  getStatus(_circuit: string): StatusRecord | null {
    return null
  }
  setStatus(_circuit: string, _record: StatusRecord): void {}
  recordSuccess(_circuit: string, _durationMs: number): void {}
  recordFailure(_circuit: string, _durationMs: number): void {}
  successCount(_circuit: string, _windowMs: number): number {
    return 0
  }
  failureCount(_circuit: string, _windowMs: number): number {
    return 0
  }
  record(): WindowCounts {
    return ZERO
  }
  recordBatch(): WindowCounts {
    return ZERO
  }
  clear(_circuit: string): void {}
  clearAll(): void {}
}
