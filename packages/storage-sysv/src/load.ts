import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SysVAddon } from './addon.js'

/** One place the loader looked for the addon, and what went wrong there. */
export interface LoadAttempt {
  /** Absolute path of the `.node` file tried. */
  readonly path: string
  /** Why it could not be used. */
  readonly error: string
}

/** Thrown (and remembered) when the addon cannot be used on this machine; lists every attempt. */
export class AddonLoadError extends Error {
  /** Every location tried, in order, with its failure. */
  readonly attempts: readonly LoadAttempt[]

  constructor(reason: string, attempts: readonly LoadAttempt[]) {
    const tried = attempts.map((attempt) => `\n  - ${attempt.path}: ${attempt.error}`).join('')
    super(
      `[@breaker/storage-sysv] ${reason}${attempts.length > 0 ? `; tried:${tried}` : ''}\n` +
        'Build it with `pnpm --filter @breaker/storage-sysv build` (needs a C++ compiler, make and python3), ' +
        'or point BREAKER_SYSV_ADDON at a built sysv.node.',
    )
    this.name = 'AddonLoadError'
    this.attempts = attempts
  }
}

/** Env var naming a built `sysv.node` to use before the default locations. */
export const ADDON_ENV = 'BREAKER_SYSV_ADDON'

// Loading is attempted once per process: a failure is as permanent as a success.
let cached: { addon: SysVAddon } | { error: AddonLoadError } | undefined

/** The locations tried, in order. `here` is `dist/` once built and `src/` under the test runner. */
export function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url))
  const candidates = [
    join(here, '../native/build/Release/sysv.node'),
    join(here, '../native/build/Debug/sysv.node'),
  ]
  const override = process.env[ADDON_ENV]
  return override ? [override, ...candidates] : candidates
}

/**
 * Tries `candidates` in order and answers the first addon that loads, or the error listing
 * every attempt. Exported for tests; use `loadAddon`.
 */
export function tryLoad(candidates: readonly string[]): { addon: SysVAddon } | { error: AddonLoadError } {
  // SysV IPC is a Unix API; on Windows there is nothing to build or load.
  if (process.platform === 'win32') {
    return { error: new AddonLoadError(`SysV IPC is not available on ${process.platform}`, []) }
  }
  const require = createRequire(import.meta.url)
  const attempts: LoadAttempt[] = []
  for (const path of candidates) {
    if (!existsSync(path)) {
      attempts.push({ path, error: 'not found' })
      continue
    }
    try {
      const addon = require(path) as SysVAddon
      if (typeof addon.shmAttach !== 'function') throw new Error('not the @breaker/storage-sysv addon (no shmAttach)')
      return { addon }
    } catch (error) {
      attempts.push({ path, error: error instanceof Error ? error.message : String(error) })
    }
  }
  return { error: new AddonLoadError('the native addon could not be loaded', attempts) }
}

/**
 * The addon, loaded on first use.
 * @throws AddonLoadError naming every location tried and why each failed.
 */
export function loadAddon(): SysVAddon {
  cached ??= tryLoad(addonCandidates())
  if ('error' in cached) throw cached.error
  return cached.addon
}

/** True when the addon loads on this machine; never throws. */
export function isSupported(): boolean {
  try {
    loadAddon()
    return true
  } catch {
    return false
  }
}
