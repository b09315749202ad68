import { ConfigurationError } from '@breaker/core'
import type { Clock, Storage } from '@breaker/core'
import { BackendHealth } from './health.js'
import type { ChainDefinition, ChainEntry, FallbackChainOptions } from './options.js'
import { isSignalAware } from './signal.js'

const SCOPE = '@breaker/storage-fallback'
// setTimeout silently turns longer delays into 1 ms; refuse them instead of misbehaving.
const MAX_TIMEOUT_MS = 2_147_483_647
const MAX_BACKENDS = 31
const REQUIRED = [
  'getStatus',
  'setStatus',
  'recordSuccess',
  'recordFailure',
  'successCount',
  'failureCount',
  'clear',
  'clearAll',
] as const

/** One backend of a chain, validated, with the chain's bookkeeping for it. */
export interface Backend {
  readonly storage: Storage
  /** `storage.name`, as events report it. */
  readonly name: string
  /** Position in the chain, 0 = primary. */
  readonly index: number
  /** Deadline of one operation (ms). */
  readonly timeoutMs: number
  /** Whether the backend wants an `AbortSignal` (see `SignalAware`). */
  readonly signalAware: boolean
  /**
   * A final `NullStorage` (name `'null'`): it keeps nothing, so the optional capabilities it
   * lacks are answered by the chain the way a storage that keeps nothing would (see README).
   */
  readonly stateless: boolean
  readonly health: BackendHealth
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  readonly timeout: number
  readonly unhealthyAfter: number
  readonly unhealthyFor: number
  readonly maxWriteBack: number
  readonly clock: Clock
}

/**
 * Validates the options and the chain in any of its three forms, answering the backends in
 * order. Every problem is a `ConfigurationError` naming the entry and the value.
 */
export function resolveChain(
  definition: ChainDefinition,
  options: FallbackChainOptions,
): { backends: Backend[]; options: ResolvedOptions } {
  const resolved = resolveOptions(options)
  const entries = entriesOf(definition, resolved.timeout)
  if (entries.length === 0) {
    throw new ConfigurationError('backends', 'must name at least one backend', definition, SCOPE)
  }
  // The router tracks the backends an operation passed over as bits of one integer.
  if (entries.length > MAX_BACKENDS) {
    throw new ConfigurationError('backends', `must name at most ${MAX_BACKENDS} backends`, `${entries.length} backends`, SCOPE)
  }
  const last = entries.length - 1
  const backends = entries.map(([path, entry], index): Backend => {
    if (typeof entry !== 'object' || entry === null) {
      throw new ConfigurationError(path, 'must be an object { storage, timeout }', entry, SCOPE)
    }
    const storage = checkStorage(`${path}.storage`, entry.storage)
    const timeoutMs = entry.timeout === undefined ? resolved.timeout : checkTimeout(`${path}.timeout`, entry.timeout)
    return {
      storage,
      name: storage.name,
      index,
      timeoutMs,
      signalAware: isSignalAware(storage),
      stateless: index === last && index > 0 && storage.name === 'null',
      health: new BackendHealth(resolved.unhealthyAfter, resolved.unhealthyFor),
    }
  })
  return { backends, options: resolved }
}

function resolveOptions(options: FallbackChainOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object', options, SCOPE)
  }
  const { timeout = 10, unhealthyAfter = 3, unhealthyFor = 30_000, maxWriteBack = 10_000, clock = Date.now } = options
  if (!Number.isInteger(unhealthyAfter) || unhealthyAfter < 1) {
    throw new ConfigurationError('unhealthyAfter', 'must be a positive integer (consecutive failures)', unhealthyAfter, SCOPE)
  }
  if (typeof unhealthyFor !== 'number' || !Number.isFinite(unhealthyFor) || unhealthyFor < 0) {
    throw new ConfigurationError('unhealthyFor', 'must be a non-negative number of milliseconds', unhealthyFor, SCOPE)
  }
  if (!Number.isInteger(maxWriteBack) || maxWriteBack < 1) {
    throw new ConfigurationError('maxWriteBack', 'must be a positive integer (circuits per backend)', maxWriteBack, SCOPE)
  }
  if (typeof clock !== 'function') {
    throw new ConfigurationError('clock', 'must be a function answering epoch milliseconds', clock, SCOPE)
  }
  return { timeout: checkTimeout('timeout', timeout), unhealthyAfter, unhealthyFor, maxWriteBack, clock }
}

/** Flattens the three forms into `[path, entry]` pairs; `path` names the entry in errors. */
function entriesOf(definition: ChainDefinition, timeout: number): Array<[string, ChainEntry]> {
  if (typeof definition === 'function') {
    const produced: unknown = definition({ timeout })
    if (!Array.isArray(produced) || produced.length === 0) {
      throw new ConfigurationError(
        'backends({ timeout })',
        'must return a non-empty array of { storage, timeout }',
        produced,
        SCOPE,
      )
    }
    return produced.map((entry: ChainEntry, i) => [`backends({ timeout })[${i}]`, entry])
  }
  if (Array.isArray(definition)) {
    return (definition as readonly ChainEntry[]).map((entry, i) => [`backends[${i}]`, entry])
  }
  if (typeof definition === 'object' && definition !== null) {
    return Object.entries(definition as Record<string, ChainEntry>).map(([key, entry]) => [`backends.${key}`, entry])
  }
  throw new ConfigurationError(
    'backends',
    'must be an array of { storage, timeout }, an object such as { primary, fallback, final }, or a function ({ timeout }) => [...]',
    definition,
    SCOPE,
  )
}

function checkTimeout(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new ConfigurationError(path, 'must be a positive number of milliseconds', value, SCOPE)
  }
  return value
}

function checkStorage(path: string, value: unknown): Storage {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError(path, 'must be a Storage', value, SCOPE)
  }
  const candidate = value as Partial<Record<string, unknown>>
  if (typeof candidate['name'] !== 'string' || typeof candidate['capabilities'] !== 'object') {
    throw new ConfigurationError(path, 'must be a Storage with a name and capabilities', describeStorage(value), SCOPE)
  }
  const missing = REQUIRED.find((method) => typeof candidate[method] !== 'function')
  if (missing !== undefined) {
    throw new ConfigurationError(path, `must be a Storage (it has no ${missing}() method)`, describeStorage(value), SCOPE)
  }
  return value as Storage
}

// A storage instance usually holds a client that does not serialise; name it instead.
function describeStorage(value: object): string {
  const name = (value as { name?: unknown }).name
  return typeof name === 'string' ? `storage '${name}'` : Object.prototype.toString.call(value)
}
