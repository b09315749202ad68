import { ConfigurationError } from '@breaker/core'
import type { Clock } from '@breaker/core'

const SCOPE = '@breaker/storage-memory'

/** Options of `MemoryStorage`. */
export interface MemoryStorageOptions {
  /** Epoch ms; defaults to `Date.now`. Inject one in tests instead of sleeping. */
  clock?: Clock
  /**
   * How many outcomes per circuit the detailed event log (`eventLog`, with durations) keeps;
   * older entries fall off. Counts stay exact beyond it. `0` keeps no log. Default 1000.
   */
  maxEvents?: number
  /**
   * How long outcomes are kept for counting (ms), and so the longest window counted exactly;
   * a longer window counts what is kept. Memory per circuit is 8 bytes per outcome inside it.
   * Default 300 000 (5 minutes, like the bucket storage's default ring).
   */
  maxWindowMs?: number
}

/** Options with defaults applied. */
export interface ResolvedMemoryOptions {
  readonly clock: Clock
  readonly maxEvents: number
  readonly maxWindowMs: number
}

/**
 * Applies defaults and validates.
 * @throws ConfigurationError naming the option and the value received.
 */
export function resolveMemoryOptions(options: MemoryStorageOptions = {}): ResolvedMemoryOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object', options, SCOPE)
  }
  const { clock = Date.now, maxEvents = 1000, maxWindowMs = 300_000 } = options
  if (typeof clock !== 'function') {
    throw new ConfigurationError('clock', 'must be a function answering epoch milliseconds', clock, SCOPE)
  }
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 0) {
    throw new ConfigurationError('maxEvents', 'must be a non-negative integer', maxEvents, SCOPE)
  }
  if (typeof maxWindowMs !== 'number' || !Number.isFinite(maxWindowMs) || maxWindowMs <= 0) {
    throw new ConfigurationError('maxWindowMs', 'must be a positive finite number of milliseconds', maxWindowMs, SCOPE)
  }
  return { clock, maxEvents, maxWindowMs }
}
