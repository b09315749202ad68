import { spawnSync } from 'node:child_process'
import type { SpawnSyncReturns } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startRedisServer } from './support/redis-server.js'
import type { RedisServer } from './support/redis-server.js'
import { ROOT, publicPackages } from './support/repo.js'
import { USER_COMPILER_OPTIONS, typeCheck, writeTsconfig } from './support/tsc.js'

// The new user's first hour, automated: pack every public package as `pnpm publish` would,
// install the tarballs into a fresh npm project outside the workspace (third-party packages from
// the registry, at the versions the READMEs name), type-check strict NodeNext code that uses every
// package, run it on real Redis, SysV and the OpenTelemetry SDK, and require() it from CommonJS.
// Needs the built packages (`pnpm build`), redis-server, the npm registry, and a C++ toolchain when
// the SysV tarball carries no prebuilt addon.

const THIRD_PARTY = [
  'ioredis@6.0.0',
  'keyv@5.6.0',
  '@keyv/redis@5.1.6',
  'mongodb@7.9.0',
  '@opentelemetry/api@~1.9.1',
  '@opentelemetry/sdk-trace-base@2.12.1',
  '@opentelemetry/sdk-metrics@2.12.1',
  '@types/node@^20.19.0',
]

const work = mkdtempSync(join(tmpdir(), 'breaker-first-hour-'))
const tarballs = join(work, 'tarballs')
const unpacked = join(work, 'unpacked')
const project = join(work, 'project')
let redis: RedisServer | undefined

afterAll(async () => {
  await redis?.stop()
  rmSync(work, { recursive: true, force: true })
})

/**
 * Runs a command with the `npm_*` variables pnpm sets for its scripts removed, as in a fresh shell
 * (a registry mirror given as `npm_config_registry` is kept).
 */
function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}, timeout = 240_000): SpawnSyncReturns<string> {
  const inherited = ([key]: [string, unknown]) => !/^npm_|^PNPM_|^pnpm_/i.test(key) || key.toLowerCase() === 'npm_config_registry'
  const clean = Object.fromEntries(Object.entries(process.env).filter(inherited))
  return spawnSync(command, args, { cwd, env: { ...clean, ...env }, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 })
}
/** The file paths an `exports` map points at (its string leaves). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports]
  if (typeof exports !== 'object' || exports === null) return []
  return Object.values(exports).flatMap(exportTargets)
}
const log = (run: SpawnSyncReturns<string>) => `exit ${run.status}${run.error ? ` (${run.error.message})` : ''}\n${run.stdout}\n${run.stderr}`

describe('a new user, from the packed tarballs', () => {
  const packages = publicPackages()

  it('packs every public package with its README and LICENSE, and no source map', () => {
    mkdirSync(tarballs, { recursive: true })
    for (const pkg of packages) {
      const run = sh('pnpm', ['pack', '--pack-destination', tarballs], pkg.dir)
      expect(run.status, log(run)).toBe(0)
    }
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))
    expect(files).toHaveLength(packages.length)
    for (const file of files) {
      const into = join(unpacked, file.replace(/\.tgz$/, ''))
      mkdirSync(into, { recursive: true })
      const run = sh('tar', ['xzf', join(tarballs, file), '-C', into, '--strip-components=1'], work)
      expect(run.status, log(run)).toBe(0)
      const listing = readdirSync(into, { recursive: true }).map(String)
      expect(listing, file).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']))
      expect(listing.filter((f) => f.endsWith('.map')), file).toEqual([])
      const json = JSON.parse(readFileSync(join(into, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; peerDependencies?: Record<string, string> }
      // Every export target is in the tarball, and no `workspace:` range leaks out.
      for (const target of exportTargets(json.exports)) expect(existsSync(join(into, target)), `${file}: ${target}`).toBe(true)
      expect(JSON.stringify(json), file).not.toContain('workspace:')
      for (const js of listing.filter((f) => f.endsWith('.js'))) {
        expect(readFileSync(join(into, js), 'utf8'), `${file}: ${js}`).not.toContain('sourceMappingURL')
      }
    }
  }, 120_000)

  it('installs the tarballs into a fresh npm project outside the workspace, third-party packages from the registry', () => {
    cpSync(join(ROOT, 'checks/consumer'), project, { recursive: true })
    const local = readdirSync(tarballs).map((f) => join(tarballs, f))
    const run = sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...local, ...THIRD_PARTY], project)
    expect(run.status, log(run)).toBe(0)
    for (const pkg of packages) expect(existsSync(join(project, 'node_modules', pkg.name, 'package.json')), pkg.name).toBe(true)
  }, 300_000)

  it('type-checks a strict NodeNext consumer that uses every package', () => {
    // skipLibCheck off: our published declarations are checked too, not only the code that uses them.
    writeTsconfig(project, { ...USER_COMPILER_OPTIONS, skipLibCheck: false, rootDir: 'src', outDir: 'dist' }, ['src'])
    const { diagnostics, output } = typeCheck(project)
    expect(diagnostics, output).toEqual([])
    expect(existsSync(join(project, 'dist/smoke.js'))).toBe(true)
  }, 120_000)

  it('runs the smoke script on real Redis, SysV and the OpenTelemetry SDK', async () => {
    redis = await startRedisServer()
    const run = sh('node', ['dist/smoke.js'], project, { REDIS_URL: redis.url }, 60_000)
    expect(run.status, log(run)).toBe(0)
    expect(run.stdout).toContain('first hour: ok')
    for (const backend of ['bucket', 'redis', 'keyv', 'sysv', 'otel']) expect(run.stdout).toContain(`ok ${backend}:`)
    expect(run.stdout).toContain('ok sysv: another process sees it too')
  }, 90_000)

  it('require()s every package from CommonJS (Node >= 20.19)', () => {
    const run = sh('node', ['require.cjs'], project)
    expect(run.status, log(run)).toBe(0)
    expect(run.stdout).toContain('require: ok')
  }, 30_000)
})
