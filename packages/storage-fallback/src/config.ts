import { ConfigurationError } from '@breaker/core'
import type { Clock, Storage } from '@breaker/core'
import { BackendHealth } from './health.js'
import type { ChainDefinition, ChainEntry, FallbackChainOptions } from './options.js'

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
  /** The backend declared `capabilities.signal`: it is handed an `AbortSignal` that aborts at the deadline. */
  readonly signal: boolean
  /**
   * The backend declared `capabilities.stateless` (a `NullStorage`): it keeps nothing, so the
   * optional methods it lacks are answered the way a storage that keeps nothing would (see README).
   */
  readonly stateless: boolean
  /** The backend offers `ready()`: asked before each operation, and skipped while false. */
  readonly hasReady: boolean
  readonly health: BackendHealth
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  readonly timeout: number
  readonly unhealthyAfter: number
  readonly recoverAfter: number
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
      signal: storage.capabilities.signal === true,
      stateless: storage.capabilities.stateless === true,
      hasReady: typeof storage.ready === 'function',
      health: new BackendHealth(resolved.unhealthyAfter, resolved.recoverAfter, resolved.unhealthyFor),
    }
  })
  return { backends, options: resolved }
}

function resolveOptions(options: FallbackChainOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object', options, SCOPE)
  }
  const unknown = Object.keys(options).find((key) => !OPTION_NAMES.includes(key))
  if (unknown !== undefined) {
    const hint = closest(unknown, OPTION_NAMES)
    throw new ConfigurationError(
      unknown,
      `is not an option${hint === undefined ? '' : ` (did you mean ${hint}?)`}; known: ${OPTION_NAMES.join(', ')}`,
      options[unknown as keyof FallbackChainOptions],
      SCOPE,
    )
  }
  const { timeout = 10, unhealthyAfter = 3, recoverAfter = 1_000, unhealthyFor = 30_000, maxWriteBack = 10_000, clock = Date.now } = options
  if (!Number.isInteger(unhealthyAfter) || unhealthyAfter < 1) {
    throw new ConfigurationError('unhealthyAfter', 'must be a positive integer (consecutive failures)', unhealthyAfter, SCOPE)
  }
  checkWait('recoverAfter', recoverAfter)
  checkWait('unhealthyFor', unhealthyFor)
  if (!Number.isInteger(maxWriteBack) || maxWriteBack < 1) {
    throw new ConfigurationError('maxWriteBack', 'must be a positive integer (circuits per backend)', maxWriteBack, SCOPE)
  }
  if (typeof clock !== 'function') {
    throw new ConfigurationError('clock', 'must be a function answering epoch milliseconds', clock, SCOPE)
  }
  return { timeout: checkTimeout('timeout', timeout), unhealthyAfter, recoverAfter, unhealthyFor, maxWriteBack, clock }
}

const OPTION_NAMES: readonly string[] = ['timeout', 'unhealthyAfter', 'recoverAfter', 'unhealthyFor', 'maxWriteBack', 'clock']

/** The known name nearest to `name` by edit distance, if it is near enough to be a typo. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return best
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]!
}

function checkWait(path: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT_MS) {
    throw new ConfigurationError(path, `must be a number of milliseconds from 0 to ${MAX_TIMEOUT_MS}`, value, SCOPE)
  }
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
