import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const root = here('../../../')

describe('README code blocks', () => {
  it('type-check under strict NodeNext with "types": ["node"], as a reader would compile them', () => {
    const readme = readFileSync(here('../README.md'), 'utf8')
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)
    expect(blocks.length).toBeGreaterThanOrEqual(3)
    // Inside the package's node_modules, so vitest and @breaker/core resolve as for a user.
    const dir = here('../node_modules/.cache/readme-blocks/')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    // Blocks import the walkthrough backend as './kv-storage.js'.
    writeFileSync(`${dir}kv-storage.ts`, readFileSync(here('./walkthrough/kv-storage.ts'), 'utf8'))
    blocks.forEach((block, i) => writeFileSync(`${dir}block-${i}.ts`, block))
    writeFileSync(
      `${dir}tsconfig.json`,
      JSON.stringify({
        extends: `${root}tsconfig.base.json`,
        compilerOptions: { noEmit: true, types: ['node'], paths: { '@breaker/storage-test-suite': [here('../src/index.ts')] } },
        include: ['*.ts'],
      }),
    )
    const tsc = `${root}node_modules/.bin/tsc`
    let diagnostics = ''
    try {
      execFileSync(tsc, ['-p', `${dir}tsconfig.json`], { encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      diagnostics = String((error as { stdout?: unknown }).stdout ?? error)
    }
    expect(diagnostics).toBe('')
  })
})
