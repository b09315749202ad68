import type { Backend } from './config.js'
import type { ChainEvents } from './events.js'

/**
 * Turns what happened to one backend into health bookkeeping and the gem's events. Every
 * message is built only when someone listens, and durations are measured only when the
 * operation was timed (`t0`/`started` ≥ 0, see `ChainEvents.timed`).
 */
export class ChainReporter {
  constructor(
    private readonly backends: readonly Backend[],
    private readonly events: ChainEvents,
    private readonly now: () => number,
  ) {}

  /** A backend answered `op`. */
  answered(backend: Backend, op: string, circuit: string | undefined, t0: number): void {
    if (backend.health.consecutiveFailures !== 0) this.recovered(backend)
    if (t0 >= 0 && this.events.wants('storage_operation')) {
      const durationMs = performance.now() - t0
      this.events.emit('storage_operation', { backend: backend.name, backendIndex: backend.index, operation: op, circuit, durationMs })
    }
  }

  /** A backend failed `op` (threw, rejected or missed its deadline); the chain moves on. */
  failed(backend: Backend, op: string, circuit: string | undefined, error: unknown, t0: number): void {
    const health = backend.health
    if (health.failure(this.now()) && this.events.wants('storage_backend_health')) {
      this.events.emit('storage_backend_health', {
        backend: backend.name,
        backendIndex: backend.index,
        healthy: false,
        consecutiveFailures: health.consecutiveFailures,
        unhealthyUntil: health.unhealthyUntil,
      })
    }
    if (this.events.wants('storage_fallback')) {
      // A failed write-back has no next backend: it is retried on the same one later.
      const next = op === 'writeBack' ? undefined : this.backends[backend.index + 1]
      this.events.emit('storage_fallback', {
        backend: backend.name,
        nextBackend: next?.name ?? null,
        operation: op,
        errorClass: errorClass(error),
        errorMessage: error instanceof Error ? error.message : String(error),
        durationMs: t0 >= 0 ? performance.now() - t0 : 0,
        backendIndex: backend.index,
        circuit,
      })
    }
  }

  /** A backend that had failed answered again: its count resets, and if it was marked, it is healthy now. */
  recovered(backend: Backend): void {
    if (backend.health.success() && this.events.wants('storage_backend_health')) {
      this.healthy(backend)
    }
  }

  /** Tells listeners a backend is healthy (again). */
  healthy(backend: Backend): void {
    this.events.emit('storage_backend_health', {
      backend: backend.name,
      backendIndex: backend.index,
      healthy: true,
      consecutiveFailures: 0,
      unhealthyUntil: null,
    })
  }

  /** A backend was passed over because it is marked unhealthy. */
  skipped(backend: Backend, op: string, circuit: string | undefined): void {
    if (this.events.wants('storage_backend_skipped')) {
      this.events.emit('storage_backend_skipped', {
        backend: backend.name,
        backendIndex: backend.index,
        operation: op,
        circuit,
        unhealthyUntil: backend.health.unhealthyUntil,
      })
    }
  }

  /** The whole operation finished, answered by backend `index` (-1: none). */
  finished(op: string, circuit: string | undefined, index: number, started: number, success: boolean): void {
    if (started < 0 || !this.events.wants('storage_chain_operation')) return
    this.events.emit('storage_chain_operation', {
      operation: op,
      circuit,
      backend: index >= 0 ? this.backends[index]!.name : null,
      backendIndex: index,
      durationMs: performance.now() - started,
      success,
    })
  }
}

/** The gem's `error_class`: the error's class name. */
function errorClass(error: unknown): string {
  if (error instanceof Error) return error.name || error.constructor.name
  return typeof error
}
