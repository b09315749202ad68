import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { SysVStorage } from '@breaker/storage-sysv'
import { loadAddon } from '../src/load.js'

// The README's code, as a reader copies it: every TypeScript block type-checks under strict
// NodeNext with `"types": ["node"]`, and the cluster recipe really removes its segment.
const root = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)
const clusterRecipe = blocks.find((block) => block.includes("from 'node:cluster'"))
const addon = loadAddon()
const dirs: string[] = []

afterEach(() => {
  for (const dir of dirs.splice(0)) {
    // Whatever a failed run left on the directory's key goes too.
    SysVStorage.remove(dir)
    rmSync(dir, { recursive: true, force: true })
  }
})

/** A scratch directory inside the package, so `@breaker/*` imports resolve as for a consumer. */
function scratch(): string {
  const dir = mkdtempSync(join(root, '.readme-'))
  dirs.push(dir)
  return dir
}

function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000
  return new Promise((resolve, reject) => {
    const look = () => {
      if (predicate()) return resolve()
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(look, 20)
    }
    look()
  })
}

/** Pids whose parent is `parent`, from /proc (field 4 of /proc/<pid>/stat, after the command in parentheses). */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent
      } catch {
        return false // gone meanwhile
      }
    })
    .map(Number)
}

describe('README', () => {
  it('every TypeScript block type-checks under strict NodeNext with types: ["node"]', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3)
    const dir = scratch()
    blocks.forEach((block, i) => writeFileSync(join(dir, `block${i}.ts`), `${block}\nexport {}\n`))
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], noEmit: true, skipLibCheck: true },
        include: ['*.ts'],
      }),
    )
    const tsc = join(root, '../../node_modules/.bin/tsc')
    let output = ''
    try {
      execFileSync(tsc, ['-p', dir], { encoding: 'utf8' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout)
    }
    expect(output).toBe('')
  })

  it.each(['SIGTERM', 'SIGINT', 'normal exit'] as const)(
    'the node cluster recipe removes its segment and semaphores when the primary ends (%s)',
    async (ending) => {
      expect(clusterRecipe).toBeDefined()
      const dir = scratch()
      // The recipe has no type annotations, so it runs as it is.
      const script = join(dir, 'cluster.mjs')
      writeFileSync(script, clusterRecipe!)
      const primary = spawn(process.execPath, [script], { env: { ...process.env, PORT: '0' }, stdio: 'inherit' })
      const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)))
      try {
        const key = addon.ftok(dir, 0x42)
        const workers = availableParallelism()
        await waitFor(() => {
          const shmid = addon.shmOpen(key)
          return shmid !== -1 && addon.shmStat(shmid).attached >= workers
        }, 'the workers to attach')
        if (ending === 'normal exit') {
          // Every worker ends; the primary has nothing left to do and exits normally.
          for (const pid of childrenOf(primary.pid!)) process.kill(pid, 'SIGTERM')
        } else {
          primary.kill(ending)
        }
        expect(await exited).toBe(0)
        expect(addon.shmOpen(key)).toBe(-1)
        // Asking for 0 semaphores finds only an existing set; none is left.
        expect(() => addon.semOpen(key, 0, 0)).toThrow('semget failed: Invalid argument')
      } finally {
        if (primary.exitCode === null) primary.kill('SIGKILL')
      }
    },
    30_000,
  )
})
