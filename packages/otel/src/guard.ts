import { diag } from '@opentelemetry/api'
import { ERROR_TYPE_OTHER } from './semconv.js'

/**
 * Wraps a channel subscriber so it can never throw. Node does not hand a subscriber's exception
 * back to the publisher: it re-raises it as an uncaught exception on a later tick, which would
 * crash the application over a telemetry bug. Failures go to OpenTelemetry's diagnostic logger
 * instead, the way the SDK reports its own.
 */
export function guard<T>(what: string, handler: (message: T) => void): (message: unknown) => void {
  // Channels carry `unknown`; each subscriber is only ever bound to the channel of its type `T`.
  return (message) => {
    try {
      handler(message as T)
    } catch (error) {
      report(what, error)
    }
  }
}

/** Reports a telemetry failure without throwing. */
export function report(what: string, error: unknown): void {
  try {
    diag.error(`@breaker/otel: ${what} failed`, error)
  } catch {
    // A broken diag logger is the last place left to report to.
  }
}

/** `error.type` for a thrown value: its class name, or `_OTHER` when it has none. */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const name = (error as { name?: unknown }).name
    if (typeof name === 'string' && name !== '') return name
    const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name
    if (typeof ctor === 'string' && ctor !== '' && ctor !== 'Object') return ctor
  }
  return ERROR_TYPE_OTHER
}

/** The `code` of a thrown value (`ERR_CIRCUIT_OPEN`, `ECONNREFUSED`), when it has a non-empty one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && code !== '') return code
  return typeof code === 'number' && Number.isFinite(code) ? String(code) : undefined
}
