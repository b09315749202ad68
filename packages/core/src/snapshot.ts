import { ConfigurationError, isCircuitState } from './errors.js'
import type { CircuitState } from './types.js'

/** Version of the snapshot format written by `exportAll()`. */
export const SNAPSHOT_VERSION = 1

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

const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0
const time = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v))

/** Checks one entry field by field; the error names the field and the value. */
export function readSnapshotEntry(entry: unknown): CircuitSnapshot {
  if (typeof entry !== 'object' || entry === null) throw new ConfigurationError('snapshot entry', 'must be an object', entry)
  const e = entry as Record<string, unknown>
  const fail = (field: string, expectation: string): never => {
    throw new ConfigurationError(`snapshot.${field}`, expectation, e[field])
  }
  if (typeof e.name !== 'string' || e.name === '') fail('name', 'must be a non-empty string')
  if (!isCircuitState(e.state)) fail('state', "must be 'closed', 'open' or 'half_open'")
  if (!time(e.openedAt)) fail('openedAt', 'must be epoch ms or null')
  if (!count(e.epoch)) fail('epoch', 'must be an integer >= 0')
  if (!count(e.failureCount)) fail('failureCount', 'must be an integer >= 0')
  if (!count(e.successCount)) fail('successCount', 'must be an integer >= 0')
  if (e.lastFailureAt !== undefined && !time(e.lastFailureAt)) fail('lastFailureAt', 'must be epoch ms or null')
  return {
    name: e.name as string,
    state: e.state as CircuitState,
    openedAt: e.openedAt as number | null,
    epoch: e.epoch as number,
    failureCount: e.failureCount as number,
    successCount: e.successCount as number,
    lastFailureAt: (e.lastFailureAt as number | null | undefined) ?? null,
    config: typeof e.config === 'object' && e.config !== null ? (e.config as Record<string, unknown>) : {},
  }
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
