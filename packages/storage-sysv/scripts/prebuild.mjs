// Builds the N-API prebuilds shipped in the package tarball: `prebuilds/<platform>-<arch>/
// sysv.<libc>.node`, one binary per platform that serves every Node version (N-API). Runs from
// `prepack`, so `pnpm pack` / `pnpm publish` include them; the binaries are never committed.
//
// Builds this machine's platform, and on linux-x64 also linux-arm64 when Debian's cross
// compiler is installed (`apt-get install g++-aarch64-linux-gnu`); it says so when it skips one.
// Node headers come from the Node running this script (`--nodedir`): node-gyp cannot download
// them on every build machine.
//
// It compiles in a scratch copy of native/ and moves each finished binary into place with a
// rename, so processes loading the addon meanwhile (tests, a running app) never see a missing
// or half-written file, and native/build (the local build) is left alone.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const prebuildify = join(dirname(require.resolve('prebuildify/package.json')), 'bin.js')
const nodedir = dirname(dirname(process.execPath))
const libc =
  process.platform === 'linux' ? (process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl') : undefined

if (!existsSync(join(root, 'dist/index.js'))) {
  console.error('[@breaker/storage-sysv] dist/ is missing: run `pnpm --filter @breaker/storage-sysv build` before packing')
  process.exit(1)
}
if (process.platform === 'win32') {
  console.log('[@breaker/storage-sysv] no prebuild on Windows: SysV IPC does not exist there')
  process.exit(0)
}

/** True when `command` is on PATH. */
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0

function build(arch, env = {}, extra = []) {
  // Inside the package, so binding.gyp's `require('node-addon-api')` resolves.
  const work = join(root, `.prebuild-${arch}-${process.pid}`)
  rmSync(work, { recursive: true, force: true })
  mkdirSync(join(work, 'native'), { recursive: true })
  for (const file of readdirSync(join(root, 'native'))) {
    if (file === 'binding.gyp' || file.endsWith('.cc')) copyFileSync(join(root, 'native', file), join(work, 'native', file))
  }
  try {
    const args = [prebuildify, '--napi', '--strip', '--name', 'sysv', '--cwd', 'native', '--out', '.', '--arch', arch, ...extra]
    if (libc) args.push('--tag-libc')
    // Only the Node that runs this: an N-API binary loads in every later version.
    args.push('--target', process.versions.node)
    const run = spawnSync(process.execPath, args, {
      cwd: work,
      stdio: 'inherit',
      env: { ...process.env, npm_config_nodedir: nodedir, ...(libc ? { PREBUILD_LIBC: libc } : {}), ...env },
    })
    if (run.status !== 0) throw new Error(`prebuildify for ${process.platform}-${arch} failed (exit ${run.status})`)
    const target = `${process.platform}-${arch}`
    const name = libc ? `sysv.${libc}.node` : 'sysv.node'
    mkdirSync(join(root, 'prebuilds', target), { recursive: true })
    renameSync(join(work, 'prebuilds', target, name), join(root, 'prebuilds', target, name))
    return target
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

const built = [build(process.arch)]
if (process.platform === 'linux' && process.arch === 'x64') {
  if (has('aarch64-linux-gnu-g++')) {
    built.push(
      build('arm64', { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++' }, [
        '--strip-bin',
        'aarch64-linux-gnu-strip',
      ]),
    )
  } else {
    console.warn('[@breaker/storage-sysv] linux-arm64 prebuild skipped: no aarch64-linux-gnu-g++ (apt-get install g++-aarch64-linux-gnu)')
  }
}
console.log(`[@breaker/storage-sysv] prebuilds: ${built.join(', ')}`)
