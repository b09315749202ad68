// Compiles the SysV addon when @breaker/storage-sysv is installed from the registry. Inside
// this repository the package's own `build` script does it, so this does nothing there.
// It never fails the install: where the addon cannot be built (no compiler, no SysV IPC),
// `isSupported()` answers false and the constructor says why.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const built = join(root, 'native/build/Release/sysv.node')
const installed = root.split(sep).includes('node_modules')

if (!installed || existsSync(built) || process.platform === 'win32') process.exit(0)

// npm and pnpm put their bundled node-gyp on PATH for lifecycle scripts.
const run = spawnSync('node-gyp', ['rebuild', '--directory', 'native'], { cwd: root, stdio: 'inherit', shell: true })
if (run.status !== 0) {
  console.warn(
    '[@breaker/storage-sysv] the SysV addon could not be built (needs a C++ compiler, make and python3); ' +
      'SysVStorage will be unavailable and isSupported() answers false.',
  )
}
