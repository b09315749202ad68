import { ConfigurationError } from '@breaker/core'
import type { Clock, Storage } from '@breaker/core'

/** What the suite hands the factory: a manual clock (epoch ms) that the tests advance. */
export interface FactoryContext {
  /** Epoch ms; starts at 2026-01-01T00:00:00Z for every test and only moves when a test moves it. */
  readonly clock: Clock
}

/** Builds a fresh storage for one test; may be async. */
export type StorageFactory<S extends Storage = Storage> = (context: FactoryContext) => S | Promise<S>

/** How the suite treats a storage. Every field is optional. */
export interface ConformanceOptions<S extends Storage = Storage> {
  /** Names the describe block (`storage conformance: <name>`); defaults to the storage's `name`. */
  name?: string
  /**
   * `'injected'` (default): the storage reads the clock given to the factory.
   * `'server'`: the storage keeps its own time, so tests that move the clock are skipped.
   */
  time?: 'injected' | 'server'
  /** Window resolution in ms (1000 for per-second buckets); boundaries are checked this far apart. Default 1. */
  granularityMs?: number
  /** Longest window the storage can count (ms); tests use windows no longer than this. Default unbounded. */
  maxWindowMs?: number
  /**
   * `false` for storages that forget by design (NullStorage): persistence tests are skipped and
   * one test checks every method answers null, 0 or nothing without throwing. Default `true`.
   */
  persistent?: boolean
  /** Called after each test with its storage; by default the storage's own `close()` if it has one. */
  teardown?: (storage: S) => void | Promise<void>
}

/** Options with every default applied. */
export interface ResolvedOptions<S extends Storage = Storage> {
  readonly name: string | undefined
  readonly time: 'injected' | 'server'
  readonly granularityMs: number
  readonly maxWindowMs: number
  readonly persistent: boolean
  readonly teardown: (storage: S) => void | Promise<void>
}

const SCOPE = '@breaker/storage-test-suite'

function closeIfPossible(storage: Storage): void | Promise<void> {
  return storage.close?.()
}

/**
 * Applies defaults and rejects nonsense early, so a typo fails loudly instead of silently
 * weakening the suite.
 * @throws ConfigurationError naming the option and the value received.
 */
export function resolveOptions<S extends Storage>(options: ConformanceOptions<S> = {}): ResolvedOptions<S> {
  const { time = 'injected', granularityMs = 1, maxWindowMs = Number.POSITIVE_INFINITY, persistent = true } = options
  if (time !== 'injected' && time !== 'server') {
    throw new ConfigurationError('time', "must be 'injected' or 'server'", time, SCOPE)
  }
  if (typeof granularityMs !== 'number' || !Number.isFinite(granularityMs) || granularityMs < 1) {
    throw new ConfigurationError('granularityMs', 'must be a finite number of milliseconds >= 1', granularityMs, SCOPE)
  }
  // The timing tests need room for a few granules inside the longest window.
  if (typeof maxWindowMs !== 'number' || Number.isNaN(maxWindowMs) || maxWindowMs < granularityMs * 4) {
    throw new ConfigurationError('maxWindowMs', `must be a number of milliseconds >= 4 * granularityMs (${granularityMs * 4})`, maxWindowMs, SCOPE)
  }
  if (typeof persistent !== 'boolean') {
    throw new ConfigurationError('persistent', 'must be a boolean', persistent, SCOPE)
  }
  if (options.teardown !== undefined && typeof options.teardown !== 'function') {
    throw new ConfigurationError('teardown', 'must be a function', options.teardown, SCOPE)
  }
  return {
    name: options.name,
    time,
    granularityMs,
    maxWindowMs,
    persistent,
    teardown: options.teardown ?? closeIfPossible,
  }
}
