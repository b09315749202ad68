/** A value that is either ready now or arrives later; storages answer with whichever is natural. */
export type MaybePromise<T> = T | Promise<T>

/** The three states of a circuit, spelled as the Ruby gem persists them. */
export type CircuitState = 'closed' | 'open' | 'half_open'

/** The outcome of one protected call, as written to storage. */
export type Outcome = 'success' | 'failure'

/**
 * The shared status of one circuit. Plain JSON, so every backend can persist it as is.
 * Times are epoch milliseconds, never a process-monotonic value.
 */
export interface StatusRecord {
  /** Current state. */
  readonly status: CircuitState
  /** When the circuit last opened (epoch ms); `null` when it has never opened or was closed since. */
  readonly openedAt: number | null
  /** Grows by one on every transition; a circuit never seen before is at epoch 0. */
  readonly epoch: number
  /** When this record was written (epoch ms): the moment of the transition. */
  readonly updatedAt: number
  /**
   * Reopenings since the circuit last closed: the exponent of `resetBackoff`, kept with the
   * status so every instance agrees on the delay. Absent means 0; storages persist it when present.
   */
  readonly backoff?: number
  /** Isolation holds in force (`circuit.isolate()`): while above 0 the circuit stays open. Absent means 0. */
  readonly holds?: number
}

/** Counts of outcomes inside a window. */
export interface WindowCounts {
  /** Failures counted in the window. */
  readonly failures: number
  /** Successes counted in the window. */
  readonly successes: number
}

/** A half-open probe permit handed out by a storage with the `leases` capability. */
export interface ProbeLease {
  /** Identifies the lease within its circuit. */
  readonly id: string
  /** When the lease lapses on its own (epoch ms), so a crashed holder cannot wedge the circuit. */
  readonly expiresAt: number
  /** Gives the permit back; safe to call more than once. */
  release(): MaybePromise<void>
}

/** A status change pushed by a storage with the `subscribe` capability. */
export interface StatusChange {
  /** Circuit name. */
  readonly circuit: string
  /** The record as written. */
  readonly record: StatusRecord
  readonly resync?: undefined
}

/**
 * Pushed when the push stream may have missed messages (a reconnect, a subscriber moved to
 * another node, a change stream resumed) or when a status was removed: every circuit of the
 * storage (or only `circuit`, when named) drops its cached status and reads storage again.
 */
export interface ResyncNotice {
  readonly resync: true
  /** The one circuit concerned; every circuit of the storage when absent. */
  readonly circuit?: string | undefined
}

/** What a storage's `subscribe` delivers: a status change or a resync notice. */
export type StorageNotice = StatusChange | ResyncNotice

/** Receives status changes and resync notices; must not throw (a storage guards against it anyway). */
export type StatusListener = (notice: StorageNotice) => void

/** One entry of a storage's detailed event log. */
export interface EventLogEntry {
  /** What happened. */
  readonly type: Outcome
  /** When it was recorded (epoch ms). */
  readonly at: number
  /** How long the call took (ms). */
  readonly durationMs: number
}

/** What a backend can honour; the circuit, the chain and the conformance suite read this, never probe. */
export interface StorageCapabilities {
  /** Who shares what this storage holds: one process, every process on a host, or a cluster. */
  readonly scope: 'process' | 'host' | 'cluster'
  /** Record-and-count cannot lose or double an outcome under concurrent writers. */
  readonly atomic: boolean
  /** `compareAndSetStatus` is offered and exact: of racing writers, exactly one wins. */
  readonly cas: boolean
  /** `acquireProbe` is offered: half-open permits counted across every sharer. */
  readonly leases: boolean
  /** `subscribe` is offered: every status write is pushed to every subscriber, and gaps as resync notices. */
  readonly subscribe: boolean
  /** Keeps nothing (`NullStorage`): reads answer "never written" whatever was written. */
  readonly stateless?: boolean
  /** `eventLog` is offered, and outcomes are worth timing (durations are kept). */
  readonly eventLog?: boolean
  /** Methods accept an `AbortSignal` as an extra last argument and stop work when it aborts. */
  readonly signal?: boolean
  /** Longest circuit name kept, in UTF-8 bytes; checked when a circuit is constructed. */
  readonly maxNameBytes?: number
}

/**
 * One circuit's handle on a storage, resolved once when the circuit is built: the methods a call
 * takes, without a lookup by name. It must stay valid across `clear` and `clearAll`.
 */
export interface CircuitHandle {
  /** As `storage.getStatus(circuit)`. */
  getStatus(): MaybePromise<StatusRecord | null>
  /** As `storage.recordSuccess(circuit, durationMs)`. */
  recordSuccess(durationMs: number): MaybePromise<void>
  /** As `storage.record(circuit, outcome, durationMs, windowMs)` (write, then counts over the window). */
  record(outcome: Outcome, durationMs: number, windowMs: number): MaybePromise<WindowCounts>
}

/** A clock answering epoch milliseconds. */
export type Clock = () => number
