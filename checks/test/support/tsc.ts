import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { bin } from './repo.js'

/**
 * Compiler options of a new user's project: what `tsc --init` writes (TypeScript 7), plus
 * `"types": ["node"]`, which TypeScript 6+ no longer loads by default.
 */
export const USER_COMPILER_OPTIONS = {
  module: 'nodenext',
  target: 'esnext',
  types: ['node'],
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  strict: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  noUncheckedSideEffectImports: true,
  moduleDetection: 'force',
  skipLibCheck: true,
} as const

/** One diagnostic of `tsc --pretty false`. */
export interface Diagnostic {
  /** Absolute path, or `undefined` for a diagnostic without a file (a bad tsconfig). */
  readonly file: string | undefined
  readonly line: number
  readonly column: number
  readonly text: string
}

/** Writes `tsconfig.json` into `dir` with `compilerOptions` and `include`. */
export function writeTsconfig(dir: string, compilerOptions: Record<string, unknown>, include: string[]): void {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include }, null, 2))
}

/**
 * Runs `tsc -p dir` (the workspace's TypeScript 7) and parses its diagnostics.
 * @param tscPath a project's own `tsc`; the workspace's when omitted.
 */
export function typeCheck(dir: string, tscPath = bin('tsc')): { status: number | null; output: string; diagnostics: Diagnostic[] } {
  const run = spawnSync(tscPath, ['-p', dir, '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: 120_000 })
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`
  const diagnostics: Diagnostic[] = []
  for (const text of output.split('\n')) {
    const located = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(text)
    if (located) diagnostics.push({ file: resolve(dir, located[1]!), line: Number(located[2]), column: Number(located[3]), text: located[4]! })
    else if (/^error /.test(text)) diagnostics.push({ file: undefined, line: 0, column: 0, text })
    // Continuation lines (indented) belong to the diagnostic above.
    else if (/^\s+\S/.test(text) && diagnostics.length > 0) {
      const last = diagnostics.pop()!
      diagnostics.push({ ...last, text: `${last.text}\n${text}` })
    }
  }
  return { status: run.status, output, diagnostics }
}
