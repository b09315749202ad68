import { isStorageTimeoutError } from '@breaker/core'
import type { Backend } from './config.js'
import type { ChainEvents } from './events.js'

/**
 * Turns what happened to one backend into health bookkeeping and the chain's events. Every
 * message is built only when someone listens, and durations are measured only when the
 * operation was timed (`t0`/`started` ≥ 0, see `ChainEvents.timed`).
 *
 * When a backend is marked unhealthy or clears its mark, the chain starts or stops reading
 * from it: `switched` is told, so subscribers re-read their circuits (a resync notice).
 */
export class ChainReporter {
  constructor(
    private readonly backends: readonly Backend[],
    private readonly events: ChainEvents,
    private readonly now: () => number,
    private readonly switched: () => void,
  ) {}

  /** The attempt `ticket` on a backend answered `op`. */
  answered(backend: Backend, ticket: number, op: string, circuit: string | undefined, t0: number): void {
    if (backend.health.consecutiveFailures !== 0) this.recovered(backend, ticket)
    if (t0 >= 0 && this.events.wants('operation')) {
      const durationMs = performance.now() - t0
      this.events.emit('operation', { backend: backend.name, backendIndex: backend.index, operation: op, circuit, durationMs })
    }
  }

  /**
   * The attempt `ticket` on a backend failed `op` (threw, rejected or missed its deadline); the
   * chain moves on. A missed deadline is reported but not counted against the backend when this
   * process stalled past it (`stalled`), or when the backend answered other attempts while this
   * one waited (`seen`, its count of answers when the attempt started; see `BackendHealth.answers`).
   */
  failed(
    backend: Backend,
    ticket: number,
    seen: number,
    op: string,
    circuit: string | undefined,
    error: unknown,
    t0: number,
  ): void {
    const health = backend.health
    if (isStorageTimeoutError(error) && (error.stalled || health.answers !== seen)) health.excused(ticket)
    else {
      const marked = health.failure(ticket, this.now())
      if (marked !== undefined && this.events.wants('backend_health')) {
        this.events.emit('backend_health', {
          backend: backend.name,
          backendIndex: backend.index,
          healthy: false,
          consecutiveFailures: health.consecutiveFailures,
          unhealthyUntil: health.unhealthyUntil,
        })
      }
      // Only the first mark moves reads elsewhere; a failed probe changes nothing for readers.
      if (marked === 'marked') this.switched()
    }
    if (this.events.wants('fallback')) {
      // A failed write-back has no next backend: it is retried on the same one later.
      const next = op === 'writeBack' ? undefined : this.backends[backend.index + 1]
      this.events.emit('fallback', {
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

  /** The attempt `ticket` succeeded on a backend that had failed: its count resets, and a newer attempt clears its mark. */
  recovered(backend: Backend, ticket: number): void {
    if (!backend.health.success(ticket)) return
    if (this.events.wants('backend_health')) this.healthy(backend)
    this.switched()
  }

  /** Tells listeners a backend is healthy (again). */
  healthy(backend: Backend): void {
    this.events.emit('backend_health', {
      backend: backend.name,
      backendIndex: backend.index,
      healthy: true,
      consecutiveFailures: 0,
      unhealthyUntil: null,
    })
  }

  /** A backend was passed over: marked unhealthy, or not `ready()` (then `unhealthyUntil` is 0). */
  skipped(backend: Backend, op: string, circuit: string | undefined): void {
    if (this.events.wants('backend_skipped')) {
      this.events.emit('backend_skipped', {
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
    if (started < 0 || !this.events.wants('chain_operation')) return
    this.events.emit('chain_operation', {
      operation: op,
      circuit,
      backend: index >= 0 ? this.backends[index]!.name : null,
      backendIndex: index,
      durationMs: performance.now() - started,
      success,
    })
  }
}

/** The error's class name, as the `fallback` event's `errorClass`. */
function errorClass(error: unknown): string {
  if (error instanceof Error) return error.name || error.constructor.name
  return typeof error
}
