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

  constructor(reason: string, attempts: readonly LoadAttempt[], fix = compileAdvice()) {
    const tried = attempts.map((attempt) => `\n  - ${attempt.path}: ${attempt.error}`).join('')
    super(`[@breaker/storage-sysv] ${reason}${attempts.length > 0 ? `; tried:${tried}` : ''}${fix ? `\n${fix}` : ''}`)
    this.name = 'AddonLoadError'
    this.attempts = attempts
  }
}

/** Env var naming a built `sysv.node` to use before the default locations. */
export const ADDON_ENV = 'BREAKER_SYSV_ADDON'

// The package root: `here` is `dist/` once built and `src/` under the test runner.
const packageRoot = (): string => join(dirname(fileURLToPath(import.meta.url)), '..')

/** `linux-x64`, the prebuild folder of this machine. */
export const platformTag = (): string => `${process.platform}-${process.arch}`

let libcFound: 'glibc' | 'musl' | undefined | null = null

/** `glibc` or `musl` on Linux (a prebuild is linked against one of them), else undefined. */
export function libc(): 'glibc' | 'musl' | undefined {
  if (libcFound !== null) return libcFound
  if (process.platform !== 'linux') return (libcFound = undefined)
  // Node's diagnostic report names the glibc it runs on; there is none under musl (Alpine).
  // Network details are left out: gathering them is the slow part of a report.
  const report = process.report as unknown as { excludeNetwork: boolean | undefined; getReport(): { header?: { glibcVersionRuntime?: string } } }
  const excluded = report.excludeNetwork
  report.excludeNetwork = true
  try {
    return (libcFound = report.getReport().header?.glibcVersionRuntime ? 'glibc' : 'musl')
  } finally {
    report.excludeNetwork = excluded
  }
}

/** What a consumer runs when no prebuilt binary fits this machine: compile one in place. */
function compileAdvice(): string {
  const native = join(packageRoot(), 'native')
  return (
    `No prebuilt binary fits ${platformTag()}${libc() ? ` (${libc()})` : ''}, or it failed to load. Compile the addon in place ` +
    `(needs a C++ compiler, make and python3; nothing else is downloaded but node-gyp and Node's headers):\n` +
    `  npx --yes node-gyp@11 rebuild --directory "${native}"\n` +
    `or set ${ADDON_ENV} to the path of a sysv.node built elsewhere for this platform.`
  )
}

// Loading is attempted once per process: a failure is as permanent as a success.
let cached: { addon: SysVAddon } | { error: AddonLoadError } | undefined

/**
 * The locations tried, in order: `BREAKER_SYSV_ADDON` when set, the prebuild shipped for this
 * platform, then a local build (compiled in `native/`).
 */
export function addonCandidates(): string[] {
  const root = packageRoot()
  const tag = libc()
  const candidates = [
    join(root, 'prebuilds', platformTag(), tag ? `sysv.${tag}.node` : 'sysv.node'),
    join(root, 'native/build/Release/sysv.node'),
    join(root, 'native/build/Debug/sysv.node'),
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
    return { error: new AddonLoadError(`SysV IPC is not available on ${process.platform}: use another storage there`, [], '') }
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
