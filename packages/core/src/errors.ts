import type { CircuitState } from './types.js'

/** Every code a `BreakerError` can carry. */
export type BreakerErrorCode =
  | 'ERR_CIRCUIT_OPEN'
  | 'ERR_CIRCUIT_BULKHEAD'
  | 'ERR_CIRCUIT_TIMEOUT'
  | 'ERR_CIRCUIT_DEPENDENCY'
  | 'ERR_STORAGE'
  | 'ERR_STORAGE_TIMEOUT'
  | 'ERR_STORAGE_CORRUPT'
  | 'ERR_CONFIGURATION'

// A brand read through the prototype chain instead of `instanceof`, so the guards work across two copies of core.
const BRAND = Symbol.for('@breaker/core/error')

function hasCode(error: unknown, ...codes: BreakerErrorCode[]): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<symbol, unknown>)[BRAND] === true &&
    codes.includes((error as { code: BreakerErrorCode }).code)
  )
}

/** Base class of every error @breaker throws; `code` says which kind. */
export class BreakerError extends Error {
  /** Machine-readable kind of error. */
  readonly code: BreakerErrorCode

  constructor(code: BreakerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

// On the prototype: every instance carries it at no cost, and `Symbol.for` makes it the same
// symbol in every copy of core.
Object.defineProperty(BreakerError.prototype, BRAND, { value: true })

/** Why a call was turned away without running. */
export type RejectReason = 'open' | 'isolated' | 'half_open_full' | 'bulkhead' | 'dependency'

const OPEN_MESSAGES = {
  open: 'is open',
  isolated: 'is held open (isolate())',
  half_open_full: 'is half_open and every probe permit is taken',
} as const

/**
 * Thrown when a circuit rejects a call: it is open, held open by `isolate()`, or half_open with
 * every probe permit taken.
 */
export class CircuitOpenError extends BreakerError {
  /** Name of the circuit that rejected the call. */
  readonly circuit: string
  /** When the circuit opened (epoch ms), if known. */
  readonly openedAt: number | null
  /** `'open'`, `'isolated'` or `'half_open_full'`. */
  readonly reason: 'open' | 'isolated' | 'half_open_full'

  constructor(circuit: string, openedAt: number | null, reason: 'open' | 'isolated' | 'half_open_full' = 'open') {
    const limit = Error.stackTraceLimit
    // A rejection is raised by the breaker, not by the caller's code: its stack says nothing,
    // and capturing one costs microseconds on the path that must be cheapest.
    Error.stackTraceLimit = 0
    super('ERR_CIRCUIT_OPEN', `[@breaker/core] circuit '${circuit}' ${OPEN_MESSAGES[reason]}`)
    Error.stackTraceLimit = limit
    this.circuit = circuit
    this.openedAt = openedAt
    this.reason = reason
  }
}

/** Thrown when a call is turned away because `maxConcurrent` calls are already running. */
export class CircuitBulkheadError extends BreakerError {
  /** Name of the circuit. */
  readonly circuit: string
  /** The configured limit. */
  readonly maxConcurrent: number

  constructor(circuit: string, maxConcurrent: number) {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0 // as for CircuitOpenError: a rejection's stack says nothing
    super('ERR_CIRCUIT_BULKHEAD', `[@breaker/core] circuit '${circuit}' already runs ${maxConcurrent} calls (maxConcurrent)`)
    Error.stackTraceLimit = limit
    this.circuit = circuit
    this.maxConcurrent = maxConcurrent
  }
}

/** Thrown when a call is turned away because a circuit it depends on (`dependsOn`) is open. */
export class CircuitDependencyError extends BreakerError {
  /** Name of the circuit that turned the call away. */
  readonly circuit: string
  /** Name of the open dependency. */
  readonly dependency: string

  constructor(circuit: string, dependency: string) {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0 // a rejection's stack says nothing
    super('ERR_CIRCUIT_DEPENDENCY', `[@breaker/core] circuit '${circuit}' depends on '${dependency}', which is open`)
    Error.stackTraceLimit = limit
    this.circuit = circuit
    this.dependency = dependency
  }
}

/** Thrown when a call outlives the circuit's `timeout`; the call's signal was aborted. */
export class CircuitTimeoutError extends BreakerError {
  /** Name of the circuit. */
  readonly circuit: string
  /** The deadline that passed (ms). */
  readonly timeoutMs: number

  constructor(circuit: string, timeoutMs: number) {
    super('ERR_CIRCUIT_TIMEOUT', `[@breaker/core] call on circuit '${circuit}' timed out after ${timeoutMs} ms`)
    this.circuit = circuit
    this.timeoutMs = timeoutMs
  }
}

/** A storage operation failed; `cause` holds the backend's own error. */
export class StorageError extends BreakerError {
  /** Backend name (`storage.name`). */
  readonly storage: string
  /** The contract method that failed, e.g. `'getStatus'`. */
  readonly operation: string
  /** The circuit concerned, when there is one. */
  readonly circuit: string | undefined

  constructor(
    storage: string,
    operation: string,
    message: string,
    options?: { cause?: unknown; circuit?: string | undefined; code?: 'ERR_STORAGE' | 'ERR_STORAGE_TIMEOUT' | 'ERR_STORAGE_CORRUPT' },
  ) {
    super(options?.code ?? 'ERR_STORAGE', message, options)
    this.storage = storage
    this.operation = operation
    this.circuit = options?.circuit
  }

  /** Wraps any thrown value as a `StorageError`, leaving one that already is untouched. */
  static from(error: unknown, storage: string, operation: string, circuit?: string): StorageError {
    if (isStorageError(error)) return error
    const detail = error instanceof Error ? error.message : String(error)
    return new StorageError(storage, operation, `[@breaker/core] storage '${storage}' failed in ${operation}: ${detail}`, {
      cause: error,
      circuit,
    })
  }
}

/** A storage operation did not answer within its deadline and was abandoned. */
export class StorageTimeoutError extends StorageError {
  /** The deadline that passed (ms). */
  readonly timeoutMs: number

  /**
   * How late the deadline's timer fired (ms). More than `timeoutMs` means this process stalled
   * (a blocked event loop), so the miss says little about the backend.
   */
  readonly lateByMs: number

  constructor(storage: string, operation: string, timeoutMs: number, circuit?: string, options?: { cause?: unknown; lateByMs?: number }) {
    super(storage, operation, `[@breaker/core] storage '${storage}' did not answer ${operation} within ${timeoutMs} ms`, {
      code: 'ERR_STORAGE_TIMEOUT',
      circuit,
      ...(options && 'cause' in options ? { cause: options.cause } : {}),
    })
    this.timeoutMs = timeoutMs
    this.lateByMs = options?.lateByMs ?? 0
  }

  /** True when the timer fired late by more than the deadline itself: the process stalled. */
  get stalled(): boolean {
    return this.lateByMs > this.timeoutMs
  }
}

/** An option is missing or out of range; thrown at construction, naming the option and the value. */
export class ConfigurationError extends BreakerError {
  /** Dotted path of the option, e.g. `'threshold.failures'`. */
  readonly option: string
  /** The value received. */
  readonly received: unknown

  constructor(option: string, expectation: string, received: unknown, scope = '@breaker/core') {
    super('ERR_CONFIGURATION', `[${scope}] ${option} ${expectation}, got ${describe(received)}`)
    this.option = option
    this.received = received
  }
}

/** Renders a received value for an error message: strings quoted, objects as JSON. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
  return String(value)
}

/** True for any error thrown by @breaker, from any copy of the package. */
export const isBreakerError = (error: unknown): error is BreakerError =>
  hasCode(error, 'ERR_CIRCUIT_OPEN', 'ERR_CIRCUIT_BULKHEAD', 'ERR_CIRCUIT_TIMEOUT', 'ERR_CIRCUIT_DEPENDENCY', 'ERR_STORAGE', 'ERR_STORAGE_TIMEOUT', 'ERR_STORAGE_CORRUPT', 'ERR_CONFIGURATION')
/** True for `CircuitOpenError`. */
export const isCircuitOpenError = (error: unknown): error is CircuitOpenError => hasCode(error, 'ERR_CIRCUIT_OPEN')
/** True for `CircuitBulkheadError`. */
export const isCircuitBulkheadError = (error: unknown): error is CircuitBulkheadError => hasCode(error, 'ERR_CIRCUIT_BULKHEAD')
/** True for `CircuitDependencyError`. */
export const isCircuitDependencyError = (error: unknown): error is CircuitDependencyError => hasCode(error, 'ERR_CIRCUIT_DEPENDENCY')
/** True for `CircuitTimeoutError`. */
export const isCircuitTimeoutError = (error: unknown): error is CircuitTimeoutError => hasCode(error, 'ERR_CIRCUIT_TIMEOUT')
/** True for `StorageError` and its subclass `StorageTimeoutError`. */
export const isStorageError = (error: unknown): error is StorageError => hasCode(error, 'ERR_STORAGE', 'ERR_STORAGE_TIMEOUT', 'ERR_STORAGE_CORRUPT')
/** True for `StorageTimeoutError`. */
export const isStorageTimeoutError = (error: unknown): error is StorageTimeoutError => hasCode(error, 'ERR_STORAGE_TIMEOUT')
/** True for `ConfigurationError`. */
export const isConfigurationError = (error: unknown): error is ConfigurationError => hasCode(error, 'ERR_CONFIGURATION')

/** A state name is valid when it is one of the three persisted strings. */
export const isCircuitState = (value: unknown): value is CircuitState =>
  value === 'closed' || value === 'open' || value === 'half_open'
