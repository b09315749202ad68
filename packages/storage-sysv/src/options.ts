import { ConfigurationError } from '@breaker/core'
import type { Clock } from '@breaker/core'

/** Options of `new SysVStorage(options)`. Every process sharing a segment must pass the same sizes. */
export interface SysVStorageOptions {
  /**
   * An existing file or directory whose inode names the segment (`ftok`). Every process that
   * passes the same path (and `projectId`) shares one segment; the app's own directory or a
   * file under `/run` is a good choice. The file must not be deleted and recreated while in use.
   */
  readonly path: string
  /** The `ftok` project id (1–255) for several independent segments on one path. Default `0x42`. */
  readonly projectId?: number
  /** How many circuit names the segment can hold. Default 1024. */
  readonly slots?: number
  /** Per-second buckets kept per circuit, which is the longest countable window in seconds. Default 300. */
  readonly bucketCount?: number
  /** Half-open probe permits a circuit can hand out at once (the ceiling for `halfOpenCalls`). Default 16. */
  readonly leasesPerCircuit?: number
  /** Permission bits of the segment and its semaphores, like a file mode. Default `0o600` (owner only). */
  readonly mode?: number
  /**
   * A uid trusted, besides this process's own, to own (and have created) an existing segment
   * and semaphore set. Default: this process's effective uid. Set it to share a segment that
   * processes of another user created (see "Permissions" in the README); a segment or set owned
   * by any other uid is refused.
   */
  readonly owner?: number
  /** How long a structural change or status write waits for the semaphore (ms). Default 1000. */
  readonly lockTimeoutMs?: number
  /** How often `subscribe` looks for status writes by other processes (ms). Default 10. */
  readonly watchIntervalMs?: number
  /** Epoch ms; inject one to move time in tests. Default `Date.now`. */
  readonly clock?: Clock
}

/** Options with defaults applied. */
export interface ResolvedSysVOptions {
  readonly path: string
  readonly projectId: number
  readonly slots: number
  readonly bucketCount: number
  readonly leasesPerCircuit: number
  readonly mode: number
  readonly owner: number
  readonly lockTimeoutMs: number
  readonly watchIntervalMs: number
  readonly clock: Clock
}

/** Package scope used in error messages. */
export const SCOPE = '@breaker/storage-sysv'

function integer(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(option, `must be an integer from ${min} to ${max}`, value, SCOPE)
  }
  return value
}

/**
 * Applies defaults and checks every option.
 * @throws ConfigurationError naming the option and the value received.
 */
export function resolveOptions(options: SysVStorageOptions | undefined): ResolvedSysVOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object with at least { path }', options, SCOPE)
  }
  const { path, projectId = 0x42, slots = 1024, bucketCount = 300, leasesPerCircuit = 16 } = options
  const { mode = 0o600, lockTimeoutMs = 1000, watchIntervalMs = 10, clock = Date.now } = options
  // geteuid is absent only on Windows, where the addon does not load anyway.
  const { owner = process.geteuid?.() ?? 0 } = options
  if (typeof path !== 'string' || path.length === 0) {
    throw new ConfigurationError('path', 'must name an existing file or directory (its inode keys the segment)', path, SCOPE)
  }
  if (typeof clock !== 'function') {
    throw new ConfigurationError('clock', 'must be a function answering epoch ms', clock, SCOPE)
  }
  if (typeof lockTimeoutMs !== 'number' || !(lockTimeoutMs > 0) || !Number.isFinite(lockTimeoutMs)) {
    throw new ConfigurationError('lockTimeoutMs', 'must be a positive number of milliseconds', lockTimeoutMs, SCOPE)
  }
  if (typeof watchIntervalMs !== 'number' || !(watchIntervalMs >= 1) || !Number.isFinite(watchIntervalMs)) {
    throw new ConfigurationError('watchIntervalMs', 'must be a number of milliseconds >= 1', watchIntervalMs, SCOPE)
  }
  return {
    path,
    projectId: integer('projectId', projectId, 1, 255),
    slots: integer('slots', slots, 1, 1 << 20),
    // A day of seconds is plenty for a breaker window and keeps a slot under ~1.4 MB.
    bucketCount: integer('bucketCount', bucketCount, 1, 86_400),
    leasesPerCircuit: integer('leasesPerCircuit', leasesPerCircuit, 1, 1024),
    mode: integer('mode', mode, 0, 0o777),
    owner: integer('owner', owner, 0, 0xffff_fffe),
    lockTimeoutMs,
    watchIntervalMs,
    clock,
  }
}
