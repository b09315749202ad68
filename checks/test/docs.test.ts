import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { TYPESCRIPT, codeBlocks } from './support/code-blocks.js'
import type { CodeBlock } from './support/code-blocks.js'
import { OUT, fromRoot, readmes } from './support/repo.js'
import { USER_COMPILER_OPTIONS, typeCheck, writeTsconfig } from './support/tsc.js'
import type { Diagnostic } from './support/tsc.js'

// Every ```ts block of every README is a program a reader may paste into a new project: each is
// written to its own file and type-checked against the built packages (run `pnpm build` first),
// with the compiler options `tsc --init` gives a new user. Placeholders are declared in the block.
const blocks: CodeBlock[] = readmes().flatMap((file) => codeBlocks(readFileSync(file, 'utf8'), file).filter((b) => TYPESCRIPT.has(b.lang)))
const dir = join(OUT, 'docs')
const fileOf = (block: CodeBlock) => join(dir, `${fromRoot(block.file).replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}.ts`)

let diagnostics: Diagnostic[] = []
let output = ''

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const block of blocks) writeFileSync(fileOf(block), `${block.code}\n`)
  writeTsconfig(dir, { ...USER_COMPILER_OPTIONS, noEmit: true }, ['*.ts'])
  ;({ diagnostics, output } = typeCheck(dir))
}, 120_000)

describe('README code blocks', () => {
  it('finds ts blocks in the READMEs', () => {
    expect(blocks.length).toBeGreaterThan(10)
  })

  it('reports every compiler error against a block (no error outside them)', () => {
    const files = new Set(blocks.map(fileOf))
    const stray = diagnostics.filter((d) => d.file === undefined || !files.has(d.file))
    expect(stray, output).toEqual([])
  })

  it.each(blocks.map((block) => [`${fromRoot(block.file)}:${block.line}`, block] as const))('%s type-checks (strict, NodeNext)', (_, block) => {
    const errors = diagnostics
      .filter((d) => d.file === fileOf(block))
      .map((d) => `${fromRoot(block.file)}:${block.line + d.line - 1}:${d.column} ${d.text}`)
    expect(errors).toEqual([])
  })
})
