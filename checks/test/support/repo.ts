import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (this file is checks/test/support/repo.ts). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Where checks write their scratch files inside the repository (gitignored). */
export const OUT = join(ROOT, 'checks/.out')

/** A binary of the root's devDependencies (tsc, changeset). */
export function bin(name: string): string {
  return join(ROOT, 'node_modules/.bin', name)
}

/** One workspace package as its package.json describes it. */
export interface WorkspacePackage {
  readonly dir: string
  readonly name: string
  readonly version: string
  readonly private: boolean
  readonly json: Record<string, unknown>
}

/** Every package under packages/ and apps/ (private ones included). */
export function workspacePackages(): WorkspacePackage[] {
  return ['packages', 'apps'].flatMap((group) => {
    const base = join(ROOT, group)
    if (!existsSync(base)) return []
    return readdirSync(base)
      .map((name) => join(base, name))
      .filter((dir) => existsSync(join(dir, 'package.json')))
      .map((dir) => {
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>
        return { dir, name: String(json.name), version: String(json.version), private: json.private === true, json }
      })
  })
}

/** The packages we publish. */
export function publicPackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => !p.private)
}

/** Every README a user reads: the root one and each workspace package's. */
export function readmes(): string[] {
  return [join(ROOT, 'README.md'), ...workspacePackages().map((p) => join(p.dir, 'README.md'))].filter((f) => existsSync(f))
}

/** `path` relative to the repository root, for messages. */
export function fromRoot(path: string): string {
  return relative(ROOT, path)
}
