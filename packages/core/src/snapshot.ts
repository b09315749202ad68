import { ConfigurationError, isCircuitState } from './errors.js'
import { isCount, isEpochMs } from './kit/numbers.js'
import type { LastError } from './circuit-stats.js'
import type { CircuitState } from './types.js'

/** Version of the snapshot format written by `exportAll()`. */
export const SNAPSHOT_VERSION = 1

/**
 * The most outcomes of either kind one circuit's snapshot entry restores. Larger counts are
 * scaled down together (keeping the failure rate) so importing a circuit costs the same
 * whatever its counts say; a threshold never needs more than this to decide.
 */
export const MAX_SNAPSHOT_COUNT = 100_000

/** One circuit in a snapshot: plain JSON, times in epoch ms. */
export interface CircuitSnapshot {
  /** Circuit name. */
  name: string
  /** State when exported. */
  state: CircuitState
  /** When it last opened (epoch ms), or `null`. */
  openedAt: number | null
  /** Epoch of its status. */
  epoch: number
  /** Failures in the threshold window. */
  failureCount: number
  /** Successes in the threshold window. */
  successCount: number
  /** Last counted failure the exporting instance saw (epoch ms), or `null`. */
  lastFailureAt: number | null
  /** Calls the exporting instance turned away (absent in older snapshots). */
  rejections?: number
  /** Answers its fallback served (absent in older snapshots). */
  fallbacks?: number
  /** Its calls that timed out (absent in older snapshots). */
  timeouts?: number
  /** The last counted failure it saw, or `null` (absent in older snapshots). */
  lastError?: LastError | null
  /** Its options as plain JSON, for reference; not applied on import. */
  config: Record<string, unknown>
}

/** What `registry.exportAll()` answers and `registry.importStates()` takes. */
export interface RegistrySnapshot {
  /** Format version; only {@link SNAPSHOT_VERSION} is read. */
  version: typeof SNAPSHOT_VERSION
  /** When it was taken (epoch ms). */
  exportedAt: number
  /** One entry per circuit. */
  circuits: CircuitSnapshot[]
}

const time = (v: unknown) => v === null || isEpochMs(v)

/** Scales both counts down together so the larger is at most {@link MAX_SNAPSHOT_COUNT}. */
function capped(failures: number, successes: number): { failures: number; successes: number } {
  const largest = Math.max(failures, successes)
  if (largest <= MAX_SNAPSHOT_COUNT) return { failures, successes }
  const scale = MAX_SNAPSHOT_COUNT / largest
  return { failures: Math.round(failures * scale), successes: Math.round(successes * scale) }
}

/** Checks one entry field by field; the error names the field and the value. */
export function readSnapshotEntry(entry: unknown): CircuitSnapshot {
  if (typeof entry !== 'object' || entry === null) throw new ConfigurationError('snapshot entry', 'must be an object', entry)
  const e = entry as Record<string, unknown>
  const fail = (field: string, expectation: string): never => {
    throw new ConfigurationError(`snapshot.${field}`, expectation, e[field])
  }
  if (typeof e.name !== 'string' || e.name === '' || !(e.name as string & { isWellFormed(): boolean }).isWellFormed()) {
    fail('name', 'must be a non-empty string of well-formed Unicode')
  }
  if (!isCircuitState(e.state)) fail('state', "must be 'closed', 'open' or 'half_open'")
  if (!time(e.openedAt)) fail('openedAt', 'must be epoch ms or null')
  if (!isCount(e.epoch)) fail('epoch', 'must be a safe integer >= 0')
  if (!isCount(e.failureCount)) fail('failureCount', 'must be a safe integer >= 0')
  if (!isCount(e.successCount)) fail('successCount', 'must be a safe integer >= 0')
  if (e.lastFailureAt !== undefined && !time(e.lastFailureAt)) fail('lastFailureAt', 'must be epoch ms or null')
  for (const field of ['rejections', 'fallbacks', 'timeouts'] as const) {
    if (e[field] !== undefined && !isCount(e[field])) fail(field, 'must be a safe integer >= 0')
  }
  const lastError = e.lastError === undefined || e.lastError === null ? null : readLastError(e.lastError, fail)
  const counts = capped(e.failureCount as number, e.successCount as number)
  return {
    name: e.name as string,
    state: e.state as CircuitState,
    openedAt: e.openedAt as number | null,
    epoch: e.epoch as number,
    failureCount: counts.failures,
    successCount: counts.successes,
    lastFailureAt: (e.lastFailureAt as number | null | undefined) ?? null,
    ...(e.rejections !== undefined ? { rejections: e.rejections as number } : {}),
    ...(e.fallbacks !== undefined ? { fallbacks: e.fallbacks as number } : {}),
    ...(e.timeouts !== undefined ? { timeouts: e.timeouts as number } : {}),
    ...(e.lastError !== undefined ? { lastError } : {}),
    config: typeof e.config === 'object' && e.config !== null ? (e.config as Record<string, unknown>) : {},
  }
}

/** Checks a snapshot's `lastError`: a class and a message (strings, at most 1 000 characters) and a time. */
function readLastError(value: unknown, fail: (field: string, expectation: string) => never): LastError {
  const v = value as Record<string, unknown>
  const text = (x: unknown) => typeof x === 'string' && x.length <= 1_000
  if (typeof value !== 'object' || !text(v.class) || !text(v.message) || !isEpochMs(v.at)) {
    fail('lastError', 'must be null or { class, message, at } (strings of at most 1 000 characters, epoch ms)')
  }
  return { class: v.class as string, message: v.message as string, at: v.at as number }
}

/** Checks a whole snapshot; an unknown version is refused with a clear error. */
export function readSnapshot(snapshot: unknown): RegistrySnapshot {
  if (typeof snapshot !== 'object' || snapshot === null) throw new ConfigurationError('snapshot', 'must be an object', snapshot)
  const s = snapshot as Record<string, unknown>
  if (s.version !== SNAPSHOT_VERSION) {
    throw new ConfigurationError('snapshot.version', `must be ${SNAPSHOT_VERSION} (this @breaker/core reads only that version)`, s.version)
  }
  if (!Array.isArray(s.circuits)) throw new ConfigurationError('snapshot.circuits', 'must be an array', s.circuits)
  return {
    version: SNAPSHOT_VERSION,
    exportedAt: typeof s.exportedAt === 'number' ? s.exportedAt : 0,
    circuits: s.circuits.map(readSnapshotEntry),
  }
}
