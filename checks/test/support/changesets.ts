import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, bin, workspacePackages } from './repo.js'

/** A package's version before and after `changeset version`, and the bump its changesets asked for. */
export interface PlannedRelease {
  readonly name: string
  readonly before: string
  readonly after: string
  /** Highest bump any changeset names for this package (`none` when none names it). */
  readonly asked: 'none' | 'patch' | 'minor' | 'major'
}

const RANK = { none: 0, patch: 1, minor: 2, major: 3 } as const

/** The bump each package's changesets ask for, from the front matter of `.changeset/*.md`. */
export function askedBumps(changesetDir: string): Map<string, PlannedRelease['asked']> {
  const asked = new Map<string, PlannedRelease['asked']>()
  for (const file of readdirSync(changesetDir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(changesetDir, file), 'utf8'))?.[1] ?? ''
    for (const line of front.split('\n')) {
      const entry = /^\s*["']?([^"':]+)["']?\s*:\s*(patch|minor|major)\s*$/.exec(line)
      if (!entry) continue
      const [, name, bump] = entry as unknown as [string, string, keyof typeof RANK]
      if (RANK[bump] > RANK[asked.get(name) ?? 'none']) asked.set(name, bump)
    }
  }
  return asked
}

/**
 * Runs `changeset version` (the workspace's @changesets/cli, with its patches) in `dir`, a
 * workspace of package.json files only, and answers every package's version before and after.
 */
export function runChangesetVersion(dir: string): { releases: PlannedRelease[]; output: string; status: number | null } {
  const names = (root: string) =>
    ['packages', 'apps'].flatMap((group) => (existsSync(join(root, group)) ? readdirSync(join(root, group)).map((n) => join(group, n)) : []))
  const read = (path: string) => JSON.parse(readFileSync(join(dir, path, 'package.json'), 'utf8')) as { name: string; version: string }
  const before = new Map(names(dir).map((path) => [path, read(path)]))
  const asked = askedBumps(join(dir, '.changeset'))
  const run = spawnSync(bin('changeset'), ['version'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  const releases = [...before].map(([path, pkg]) => ({
    name: pkg.name,
    before: pkg.version,
    after: read(path).version,
    asked: asked.get(pkg.name) ?? 'none',
  }))
  return { releases, output: `${run.stdout}${run.stderr}`, status: run.status }
}

/** A scratch copy of this repository as changesets sees it: package.json files and `.changeset/`. */
export function scratchCopyOfRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'breaker-versioning-'))
  for (const file of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(ROOT, file), join(dir, file))
  cpSync(join(ROOT, '.changeset'), join(dir, '.changeset'), { recursive: true })
  // Every workspace package (the private ones too: the config's `ignore` names them).
  for (const pkg of [...workspacePackages(), { dir: join(ROOT, 'checks') }]) {
    const path = pkg.dir.slice(ROOT.length + 1)
    mkdirSync(join(dir, path), { recursive: true })
    cpSync(join(pkg.dir, 'package.json'), join(dir, path, 'package.json'))
  }
  return dir
}

/** Major version of a semver string. */
export function major(version: string): number {
  return Number(version.split('.')[0])
}
