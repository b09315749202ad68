import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { addonCandidates, libc, platformTag } from '../src/load.js'

// The package as a consumer gets it: packed (prepack builds the prebuilds), installed with
// pnpm 12 into a project outside this workspace, and used. Real pnpm, real tarballs.
const here = dirname(fileURLToPath(import.meta.url))
const sysvDir = join(here, '..')
const coreDir = join(here, '../../core')
const work = mkdtempSync(join(tmpdir(), 'breaker-sysv-consumer-'))
const prebuild = `prebuilds/${platformTag()}/sysv.${libc()}.node`
const crossCompiler = spawnSync('sh', ['-c', 'command -v aarch64-linux-gnu-g++'], { stdio: 'ignore' }).status === 0

afterAll(() => rmSync(work, { recursive: true, force: true }))

function pack(dir: string): string {
  execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: dir, stdio: 'pipe' })
  const name = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json").name)'], { cwd: dir }).toString()) as string
  return join(work, `${name.slice(1).replace('/', '-')}-0.1.0.tgz`)
}

/** Runs `code` as an ES module in the consumer project; answers its stdout, or the error's code and message. */
function runInConsumer(app: string, segment: string): string {
  const code = `
    import { SysVStorage } from '@breaker/storage-sysv'
    try {
      const storage = new SysVStorage({ path: ${JSON.stringify(segment)} })
      console.log(JSON.stringify(storage.record('c', 'failure', 0, 60_000)))
      storage.destroy()
    } catch (error) {
      console.log(error.code, error.message)
    }`
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: app }).toString()
}

describe.skipIf(process.platform !== 'linux')('the published package (linux)', () => {
  it('looks for the prebuild of this platform first, then a local build', () => {
    const candidates = addonCandidates().filter((path) => path !== process.env.BREAKER_SYSV_ADDON)
    expect(candidates[0]).toBe(join(sysvDir, prebuild))
    expect(candidates.slice(1)).toEqual([join(sysvDir, 'native/build/Release/sysv.node'), join(sysvDir, 'native/build/Debug/sysv.node')])
  })

  it(
    'installs with pnpm without build scripts, runs from its prebuild, and tells how to compile where none fits',
    () => {
      const sysv = pack(sysvDir)
      const core = pack(coreDir)
      const files = execFileSync('tar', ['-tzf', sysv]).toString().split('\n')
      expect(files).toContain(`package/${prebuild}`)
      if (crossCompiler) expect(files).toContain('package/prebuilds/linux-arm64/sysv.glibc.node')
      expect(files.filter((file) => file.startsWith('package/native/build'))).toEqual([])
      expect(JSON.parse(execFileSync('tar', ['-xzOf', sysv, 'package/package.json']).toString()).scripts).not.toHaveProperty('install')

      const app = join(work, 'app')
      const segment = join(work, 'segment')
      mkdirSync(app)
      mkdirSync(segment)
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { '@breaker/core': `file:${core}`, '@breaker/storage-sysv': `file:${sysv}` } }),
      )
      // pnpm 12 fails an install with ERR_PNPM_IGNORED_BUILDS when a dependency has build scripts.
      const install = spawnSync('pnpm', ['install', '--prefer-offline'], { cwd: app, encoding: 'utf8' })
      expect(install.stdout + install.stderr).not.toMatch('IGNORED_BUILDS')
      expect(install.status).toBe(0)
      expect(runInConsumer(app, segment)).toBe('{"failures":1,"successes":0}\n')

      // A platform no prebuild fits: the error lists every place tried and the consumer's fix.
      const installed = realpathSync(join(app, 'node_modules/@breaker/storage-sysv'))
      renameSync(join(installed, 'prebuilds'), join(installed, 'prebuilds-gone'))
      const failure = runInConsumer(app, segment)
      expect(failure).toMatch(/^ERR_STORAGE \[@breaker\/storage-sysv\] the native addon could not be loaded; tried:/)
      for (const path of [prebuild, 'native/build/Release/sysv.node', 'native/build/Debug/sysv.node']) {
        expect(failure).toMatch(`${join(installed, path)}: not found`)
      }
      const advice = `npx --yes node-gyp@11 rebuild --directory "${join(installed, 'native')}"`
      expect(failure).toMatch(advice)
      expect(failure).not.toMatch('pnpm --filter')

      // The advice works as given (plus --nodedir: this machine cannot download Node's headers).
      const nodedir = dirname(dirname(process.execPath))
      execFileSync('sh', ['-c', `${advice} --nodedir="${nodedir}"`], { cwd: app, stdio: 'pipe' })
      expect(runInConsumer(app, segment)).toBe('{"failures":1,"successes":0}\n')
    },
    240_000,
  )
})
