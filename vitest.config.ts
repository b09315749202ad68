import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

const root = import.meta.dirname

/** Every workspace package that has a `test/` folder becomes one vitest project. */
function workspaceDirs(): string[] {
  const grouped = ['packages', 'apps'].flatMap((group) => {
    const base = join(root, group)
    if (!existsSync(base)) return []
    return readdirSync(base).map((name) => join(base, name))
  })
  // `checks/`: README blocks, versioning and the packed-tarball consumer (see its package.json).
  return [...grouped, join(root, 'checks')].filter((dir) => existsSync(dir))
}

// Tests import `@breaker/*` from source so they never depend on a stale build;
// only tests that spawn child processes load the built `dist`.
// Exact matches, so a subpath export (`@breaker/core/kit`) maps to its own source entry.
const alias = workspaceDirs()
  .filter((dir) => existsSync(join(dir, 'src/index.ts')) && dir.includes('packages'))
  .flatMap((dir) => {
    const name = dir.split('/').pop()!
    const entries = [{ find: new RegExp(`^@breaker/${name}$`), replacement: resolve(dir, 'src/index.ts') }]
    if (existsSync(join(dir, 'src/kit/index.ts'))) {
      entries.push({ find: new RegExp(`^@breaker/${name}/kit$`), replacement: resolve(dir, 'src/kit/index.ts') })
    }
    return entries
  })

export default defineConfig({
  resolve: { alias },
  test: {
    // Under CI the JSON report feeds .ci/summary.mjs, which prints the closing count line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: join(root, '.ci/out/vitest.json') },
    projects: workspaceDirs()
      .filter((dir) => existsSync(join(dir, 'test')))
      .map((dir) => ({
        extends: true,
        test: {
          name: dir.split('/').pop()!,
          root: dir,
          include: ['test/**/*.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      })),
  },
})
