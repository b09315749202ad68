import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chmodSync, existsSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { isStorageError, isStorageTimeoutError } from '@breaker/core'
import { SysVStorage } from '@breaker/storage-sysv'
import { computeLayout } from '../src/layout.js'
import { addonCandidates, loadAddon } from '../src/load.js'
import { destroyAll, freshPath } from './helpers.js'

const addon = loadAddon()
const OTHER = 'breaker-other'
const isRoot = process.geteuid?.() === 0

/** The uid and gid of a second local user, created (as a system user, no home) when absent. */
function otherUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, OTHER]).toString().trim())
  try {
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER])
    return { uid: id('-u'), gid: id('-g') }
  }
}

// What the other user's process does: plant the semaphore set and/or the segment on the key of
// `path`, with mode 0666, write "payments = open"-like bytes, take the structure lock and keep
// everything until killed.
const PLANTER = `
const addon = require(process.argv[1])
const [path, bytes, what] = [process.argv[2], Number(process.argv[3]), process.argv[4]]
const key = addon.ftok(path, 0x42)
const out = { uid: process.getuid() }
if (what.includes('sem')) {
  out.semid = addon.semOpen(key, 2, 0o666)
  addon.semLock(out.semid, 0, 1000)
}
if (what.includes('shm')) {
  out.shmid = addon.shmCreate(key, bytes, 0o666)
  const u8 = new Uint8Array(addon.shmAttach(out.shmid))
  u8.set(Buffer.from('payments = open'), 4096)
}
console.log(JSON.stringify(out))
setInterval(() => {}, 1000)
`

const planters: ChildProcess[] = []
const planted: { semid?: number; shmid?: number }[] = []
const keyed: string[] = []

afterEach(() => {
  for (const child of planters.splice(0)) child.kill('SIGKILL')
  // Root may remove what the other user created; by id, so nothing else is touched.
  for (const { semid, shmid } of planted.splice(0)) {
    if (semid !== undefined) tryRemove(() => addon.semRemove(semid))
    if (shmid !== undefined) tryRemove(() => addon.shmRemove(shmid))
  }
  // And what this process created on those keys before it refused the rest.
  for (const path of keyed.splice(0)) tryRemove(() => SysVStorage.remove(path))
  destroyAll()
})

function tryRemove(remove: () => void): void {
  try {
    remove()
  } catch {
    // Already gone.
  }
}

/** Runs the planter as the other user; resolves with the ids it created once it holds them. */
async function plant(path: string, what: 'sem+shm' | 'shm'): Promise<{ uid: number; semid?: number; shmid?: number }> {
  const { uid, gid } = otherUser()
  const addonPath = addonCandidates().find((candidate) => existsSync(candidate))
  const bytes = computeLayout(1024, 300, 16).totalBytes
  const child = spawn(process.execPath, ['-e', PLANTER, addonPath ?? '', path, String(bytes), what], { uid, gid, stdio: ['ignore', 'pipe', 'inherit'] })
  planters.push(child)
  const ids = JSON.parse(await firstLine(child)) as { uid: number; semid?: number; shmid?: number }
  planted.push(ids)
  return ids
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const end = buffer.indexOf('\n')
      if (end >= 0) resolve(buffer.slice(0, end))
    })
    child.once('exit', (code) => reject(new Error(`the planter exited (code ${code}) before reporting its ids`)))
  })
}

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

/** A directory the other user can `stat` (ftok needs it) — mkdtemp makes them 0700. */
function sharedPath(): string {
  const path = freshPath()
  chmodSync(path, 0o755)
  keyed.push(path)
  return path
}

describe.skipIf(!isRoot)('a segment or semaphore set planted by another local user (as root: creates the user breaker-other)', () => {
  it('a semaphore set another user created with mode 0666 and holds is refused at once, naming its owner and the ipcrm command', async () => {
    const path = sharedPath()
    const { uid, semid, shmid } = await plant(path, 'sem+shm')
    const error = thrown(() => new SysVStorage({ path, lockTimeoutMs: 5_000 }))
    expect(isStorageError(error)).toBe(true)
    // Not a timeout: the set is refused before its lock is waited for.
    expect(isStorageTimeoutError(error)).toBe(false)
    expect(error.message).toMatch(`the semaphore set of segment`)
    expect(error.message).toMatch(`semid ${semid}, belongs to uid ${uid} (${OTHER}), not to uid 0 (root)`)
    expect(error.message).toMatch(`\`ipcrm -s ${semid}\``)
    // The other user's segment was not written to.
    const u8 = new Uint8Array(addon.shmAttach(shmid!))
    expect(Buffer.from(u8.subarray(4096, 4096 + 15)).toString()).toBe('payments = open')
    expect(u8.subarray(0, 4096).every((byte) => byte === 0)).toBe(true)
  })

  it('a segment another user created with mode 0666 is refused before it is attached, naming its owner and the ipcrm command', async () => {
    const path = sharedPath()
    const { uid, shmid } = await plant(path, 'shm')
    const error = thrown(() => new SysVStorage({ path }))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch(`shmid ${shmid}, belongs to uid ${uid} (${OTHER}), not to uid 0 (root)`)
    expect(error.message).toMatch(`\`ipcrm -m ${shmid}\``)
    expect(addon.shmStat(shmid!).attached).toBe(1) // the planter only
  })

  it('`owner` opts in to a segment of another user, as long as its mode is not wider than asked', async () => {
    const path = sharedPath()
    const { uid, shmid } = await plant(path, 'shm')
    const error = thrown(() => new SysVStorage({ path, owner: uid }))
    expect(error.message).toMatch(`shmid ${shmid}, has mode 0o666, wider than the 0o600 asked`)
    // With the mode it has, the planted segment is used: its owner is trusted on purpose. It
    // holds no @breaker header yet, and it is all zero but for the planter's bytes: refused as foreign.
    expect(thrown(() => new SysVStorage({ path, owner: uid, mode: 0o666 })).message).toMatch('is left untouched')
  })
})

describe.skipIf(isRoot)('a segment planted by another local user (needs root)', () => {
  it.skip('skipped: creating a second user and running a process as it needs root; CI runs these as root', () => {})
})

describe('a segment of this user with a wider mode than asked', () => {
  it('is refused, naming both modes and the ipcrm command', () => {
    const path = freshPath()
    keyed.push(path)
    const wide = new SysVStorage({ path, mode: 0o666 })
    try {
      const { shmid, semid } = wide.info()
      const error = thrown(() => new SysVStorage({ path }))
      expect(isStorageError(error)).toBe(true)
      // The semaphore set is checked first.
      expect(error.message).toMatch(`semid ${semid}, has mode 0o666, wider than the 0o600 asked`)
      expect(error.message).toMatch(`\`ipcrm -s ${semid}\``)
      const same = new SysVStorage({ path, mode: 0o666 })
      expect(same.info().shmid).toBe(shmid)
      void same.close()
    } finally {
      wide.destroy()
    }
  })
})
