import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { major, runChangesetVersion, scratchCopyOfRepo } from './support/changesets.js'

// `changeset version` on a scratch copy: what the next release would publish, checked before
// anyone runs it for real. Changesets bumps a peer dependent *major* when a release leaves its
// peer range, and in 0.x every minor of core leaves `^0.x.0`; our patch to
// @changesets/assemble-release-plan (patches/) makes that a minor for a 0.x dependent.

const scratch: string[] = []
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
}

describe('versioning', () => {
  it('the pending changesets release no major version that no changeset asked for', () => {
    const dir = scratchCopyOfRepo()
    scratch.push(dir)
    const { releases, output, status } = runChangesetVersion(dir)
    expect(status, output).toBe(0)
    const unasked = releases
      .filter((r) => major(r.after) > major(r.before) && r.asked !== 'major')
      .map((r) => `${r.name} ${r.before} → ${r.after} (its changesets ask for ${r.asked})`)
    expect(unasked).toEqual([])
  }, 60_000)

  it('a minor of a 0.x core releases its 0.x peer dependents as a minor, with no changeset of their own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'breaker-versioning-fixture-'))
    scratch.push(dir)
    writeJson(join(dir, 'package.json'), { name: 'root', private: true })
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n')
    mkdirSync(join(dir, '.changeset'))
    writeJson(join(dir, '.changeset/config.json'), {
      changelog: false,
      commit: false,
      access: 'public',
      baseBranch: 'main',
      updateInternalDependencies: 'patch',
      ___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH: { onlyUpdatePeerDependentsWhenOutOfRange: true },
    })
    writeFileSync(join(dir, '.changeset/core-minor.md'), "---\n'@fixture/core': minor\n---\n\nBreaking, as 0.x minors are.\n")
    writeFileSync(join(dir, '.changeset/patched-storage.md'), "---\n'@fixture/patched': patch\n---\n\nA fix.\n")
    const pkg = (name: string, extra: object = {}) => {
      mkdirSync(join(dir, 'packages', name), { recursive: true })
      writeJson(join(dir, 'packages', name, 'package.json'), { name: `@fixture/${name}`, version: '0.1.0', ...extra })
    }
    pkg('core')
    pkg('storage', { peerDependencies: { '@fixture/core': 'workspace:^' } })
    pkg('patched', { peerDependencies: { '@fixture/core': 'workspace:^' } })
    const { releases, output, status } = runChangesetVersion(dir)
    expect(status, output).toBe(0)
    expect(Object.fromEntries(releases.map((r) => [r.name, r.after]))).toEqual({
      '@fixture/core': '0.2.0',
      '@fixture/storage': '0.2.0',
      '@fixture/patched': '0.2.0',
    })
  }, 60_000)
})
