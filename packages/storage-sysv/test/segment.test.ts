import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { isConfigurationError, isStorageError } from '@breaker/core'
import { checkCircuitName } from '@breaker/core/kit'
import { LAYOUT_VERSION, SysVStorage, isSupported } from '@breaker/storage-sysv'
import { H, HEADER_BYTES, L, MAGIC, S, computeLayout } from '../src/layout.js'
import { loadAddon, tryLoad } from '../src/load.js'
import { destroyAll, freshPath, freshStorage } from './helpers.js'

afterEach(destroyAll)

const addon = loadAddon()
const record = { status: 'open' as const, openedAt: 1_000, epoch: 1, updatedAt: 1_000 }

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

/** Rewrites one Int32 of a segment's header, as another version or program would have left it. */
function pokeHeader(storage: SysVStorage, word: number, value: number): void {
  const buffer = addon.shmAttach(storage.info().shmid)
  new Int32Array(buffer)[word] = value
  addon.shmDetach(buffer)
}

describe('opening a segment', () => {
  it('isSupported answers true where the addon loads', () => {
    expect(isSupported()).toBe(true)
  })

  it('the first opener creates the segment with the requested mode; the next attaches to it', () => {
    const path = freshPath()
    const first = freshStorage({ path, mode: 0o640 })
    const second = freshStorage({ path, mode: 0o640 })
    expect(first.info().created).toBe(true)
    expect(second.info().created).toBe(false)
    expect(second.info()).toMatchObject({ shmid: first.info().shmid, mode: 0o640, attached: 2, layoutVersion: LAYOUT_VERSION })
    first.recordFailure('shared', 1)
    expect(second.failureCount('shared', 60_000)).toBe(1)
  })

  it('a segment of another layout version is refused with a message saying how to remove it', () => {
    const path = freshPath()
    const old = freshStorage({ path })
    pokeHeader(old, 1, LAYOUT_VERSION + 1)
    const error = thrown(() => new SysVStorage({ path }))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch(`has layout version ${LAYOUT_VERSION + 1}, but this @breaker/storage-sysv reads version ${LAYOUT_VERSION}`)
    expect(error.message).toMatch('SysVStorage.remove(path)')
  })

  it('a segment of layout version 1 (status records without backoff and holds) is refused; once removed, a new one keeps them', () => {
    expect(LAYOUT_VERSION).toBe(2)
    const path = freshPath()
    const old = freshStorage({ path })
    pokeHeader(old, 1, 1)
    const error = thrown(() => new SysVStorage({ path }))
    expect(error.message).toMatch(`has layout version 1, but this @breaker/storage-sysv reads version 2`)
    void old.close()
    expect(SysVStorage.remove(path)).toEqual({ segment: true, semaphores: true })
    const fresh = freshStorage({ path })
    const record = { status: 'open', openedAt: 1_000, epoch: 4, updatedAt: 1_000, backoff: 3, holds: 2 } as const
    fresh.setStatus('isolated', record)
    expect(freshStorage({ path }).getStatus('isolated')).toEqual(record)
  })

  it('a child process meeting a segment of another layout version fails with the same clear error', () => {
    const path = freshPath()
    const old = freshStorage({ path })
    pokeHeader(old, 1, 99)
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))
    const child = spawnSync(process.execPath, [
      '--input-type=module',
      '-e',
      `import { SysVStorage } from ${JSON.stringify(dist)}; try { new SysVStorage({ path: ${JSON.stringify(path)} }) } catch (e) { console.log(e.code, e.message); process.exit(3) }`,
    ])
    expect(child.status).toBe(3)
    expect(child.stdout.toString()).toMatch(/^ERR_STORAGE .*has layout version 99/)
  })

  it('a segment of another program under the same key is refused, not misread', () => {
    const path = freshPath()
    const foreign = addon.shmCreate(addon.ftok(path, 0x42), 4096, 0o600)
    try {
      expect(thrown(() => new SysVStorage({ path })).message).toMatch('is not a @breaker/storage-sysv segment')
    } finally {
      addon.shmRemove(foreign)
      SysVStorage.remove(path)
    }
  })

  it('different sizes than the segment was created with are refused, naming both', () => {
    const path = freshPath()
    freshStorage({ path, slots: 64 })
    expect(thrown(() => new SysVStorage({ path, slots: 32 })).message).toMatch('was created with slots=64, but this process asks for slots=32')
  })

  it('another program\'s segment as big as ours, never READY, is refused and left untouched, not zero-filled', () => {
    const path = freshPath()
    const bytes = computeLayout(1024, 300, 16).totalBytes
    const foreign = addon.shmCreate(addon.ftok(path, 0x42), bytes, 0o600)
    const buffer = addon.shmAttach(foreign)
    try {
      const words = new Uint32Array(buffer)
      words[0] = 0xdeadbeef
      for (let i = 1; i < (1 << 20) / 4; i++) words[i] = i
      const before = Buffer.from(new Uint8Array(buffer)).toString('base64')
      addon.shmDetach(buffer)
      const error = thrown(() => new SysVStorage({ path }))
      expect(isStorageError(error)).toBe(true)
      expect(error.message).toMatch(`is not a @breaker/storage-sysv segment (magic 0xdeadbeef)`)
      expect(error.message).toMatch('its data is left untouched')
      const after = addon.shmAttach(foreign)
      expect(Buffer.from(new Uint8Array(after)).toString('base64')).toBe(before)
      addon.shmDetach(after)
    } finally {
      addon.shmRemove(foreign)
      SysVStorage.remove(path)
    }
  })

  it('an all-zero segment nobody is attached to is initialised', () => {
    const path = freshPath()
    const shmid = addon.shmCreate(addon.ftok(path, 0x42), computeLayout(1024, 300, 16).totalBytes, 0o600)
    const storage = freshStorage({ path })
    expect(storage.info()).toMatchObject({ shmid, created: false })
    storage.recordFailure('fresh', 1)
    expect(storage.failureCount('fresh', 60_000)).toBe(1)
  })

  it('a header left unfinished by a creator that died (our magic, no READY, no slot used) is initialised again', () => {
    const path = freshPath()
    const shmid = addon.shmCreate(addon.ftok(path, 0x42), computeLayout(1024, 300, 16).totalBytes, 0o600)
    const buffer = addon.shmAttach(shmid)
    new Int32Array(buffer)[H.MAGIC] = MAGIC
    new Int32Array(buffer)[H.VERSION] = LAYOUT_VERSION
    addon.shmDetach(buffer)
    const next = freshStorage({ path })
    next.recordFailure('fresh', 1)
    expect(next.failureCount('fresh', 60_000)).toBe(1)
  })

  it('a live segment whose READY word was overwritten while another process is attached is refused and left untouched', () => {
    const path = freshPath()
    const storage = freshStorage({ path })
    storage.recordFailure('kept', 1)
    pokeHeader(storage, H.READY, 0)
    const error = thrown(() => new SysVStorage({ path }))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch('READY word reads 0x00000000 while 1 other process is attached')
    expect(error.message).toMatch(`\`ipcrm -m ${storage.info().shmid}\``)
    expect(storage.failureCount('kept', 60_000)).toBe(1)
  })

  it('a segment of ours holding circuits whose READY word was overwritten is refused even with nobody attached', async () => {
    const path = freshPath()
    const storage = freshStorage({ path })
    storage.recordFailure('kept', 1)
    pokeHeader(storage, H.READY, 0x1234)
    const { shmid } = storage.info()
    await storage.close()
    expect(thrown(() => new SysVStorage({ path })).message).toMatch('READY word reads 0x00001234: it was overwritten, not left unfinished')
    const buffer = addon.shmAttach(shmid)
    expect(new Int32Array(buffer)[H.SLOTS_USED]).toBe(1)
    addon.shmDetach(buffer)
  })

  it('SysVStorage.remove clears an incompatible segment so a new one can be created', () => {
    const path = freshPath()
    const old = freshStorage({ path })
    pokeHeader(old, 1, 99)
    expect(SysVStorage.remove(path)).toEqual({ segment: true, semaphores: true })
    const fresh = freshStorage({ path })
    expect(fresh.info().created).toBe(true)
    expect(SysVStorage.remove(freshPath())).toEqual({ segment: false, semaphores: false })
  })

  it('a path that does not exist is a clear error naming it', () => {
    const error = thrown(() => new SysVStorage({ path: '/nonexistent/breaker-sysv' }))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch('"/nonexistent/breaker-sysv" must name an existing file or directory')
  })

  it.each([
    [{ path: '' }, 'path'],
    [{ path: '/tmp', slots: 0 }, 'slots'],
    [{ path: '/tmp', bucketCount: 1.5 }, 'bucketCount'],
    [{ path: '/tmp', mode: 0o1000 }, 'mode'],
    [{ path: '/tmp', projectId: 256 }, 'projectId'],
    [{ path: '/tmp', leasesPerCircuit: 0 }, 'leasesPerCircuit'],
    [{ path: '/tmp', lockTimeoutMs: -1 }, 'lockTimeoutMs'],
    [{ path: '/tmp', clock: 5 }, 'clock'],
    [{ path: '/tmp', slots: 1 << 20, bucketCount: 86_400 }, 'slots'],
  ])('rejects %o with a ConfigurationError naming %s', (options, option) => {
    const error = thrown(() => new SysVStorage(options as never))
    expect(isConfigurationError(error)).toBe(true)
    expect((error as unknown as { option: string }).option).toBe(option)
    expect(error.message).toMatch(/^\[@breaker\/storage-sysv\]/)
  })
})

describe('loading the addon', () => {
  it('reports every location tried and why each failed', () => {
    const dir = freshPath()
    const notAnAddon = join(dir, 'broken.node')
    writeFileSync(notAnAddon, 'not a shared object')
    const result = tryLoad([join(dir, 'missing.node'), notAnAddon])
    expect('error' in result).toBe(true)
    const { error } = result as { error: Error & { attempts: { path: string; error: string }[] } }
    expect(error.attempts.map((attempt) => attempt.path)).toEqual([join(dir, 'missing.node'), notAnAddon])
    expect(error.attempts[0]!.error).toBe('not found')
    expect(error.message).toMatch(`${join(dir, 'missing.node')}: not found`)
    expect(error.message).toMatch(`${notAnAddon}: `)
  })
})

describe('slots', () => {
  it('a name longer than 256 UTF-8 bytes is a StorageError, not a silent truncation', () => {
    const storage = freshStorage()
    const error = thrown(() => storage.recordFailure('é'.repeat(129), 1))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch('limited to 256 UTF-8 bytes')
    storage.recordFailure('é'.repeat(128), 1)
    expect(storage.failureCount('é'.repeat(128), 60_000)).toBe(1)
  })

  it('declares maxNameBytes, so a circuit with a longer name is refused when it is constructed', () => {
    const storage = freshStorage()
    expect(storage.capabilities.maxNameBytes).toBe(256)
    const error = thrown(() => checkCircuitName('é'.repeat(129), storage.capabilities.maxNameBytes, storage.name))
    expect(isConfigurationError(error)).toBe(true)
    expect(error.message).toMatch("is 258 bytes in UTF-8; storage 'sysv' keeps names of at most 256 bytes")
  })

  it('names differing only in lone surrogates are refused instead of sharing one slot', () => {
    const storage = freshStorage()
    for (const name of ['x\uD800', 'x\uDBFF', 'x\uDC00y']) {
      for (const call of [() => storage.recordFailure(name, 1), () => storage.failureCount(name, 60_000), () => storage.getStatus(name)]) {
        const error = thrown(call)
        expect(isStorageError(error)).toBe(true)
        expect(error.message).toMatch('circuit names must be strings of well-formed Unicode')
      }
    }
    expect(storage.info().slotsUsed).toBe(0)
    // Well-formed names outside the BMP are keyed by their UTF-8 bytes, each its own slot.
    storage.recordFailure('x\uD83D\uDE00', 1)
    expect(storage.failureCount('x\uD83D\uDE00', 60_000)).toBe(1)
    expect(storage.info().slotsUsed).toBe(1)
  })

  it('when every slot is taken a new name fails clearly while known names keep working', () => {
    const storage = freshStorage({ slots: 4 })
    for (const name of ['a', 'b', 'c', 'd']) storage.recordFailure(name, 1)
    const error = thrown(() => storage.recordFailure('e', 1))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch('all 4 slots of the segment hold other circuits')
    storage.recordFailure('d', 1)
    expect(storage.failureCount('d', 60_000)).toBe(2)
    // Reads of an unknown name need no slot.
    expect(storage.getStatus('e')).toBeNull()
  })

  it('clearAll frees every slot, also for another process-level handle with cached slots', () => {
    const path = freshPath()
    const storage = freshStorage({ path, slots: 2 })
    const other = freshStorage({ path, slots: 2 })
    storage.recordFailure('a', 1)
    other.recordFailure('b', 1)
    other.clearAll()
    expect(storage.info().slotsUsed).toBe(0)
    storage.recordFailure('c', 1)
    storage.recordFailure('b', 1)
    expect(other.failureCount('b', 60_000)).toBe(1)
    expect(other.failureCount('a', 60_000)).toBe(0)
  })

  it('names that collide on the same slot are kept apart', () => {
    const storage = freshStorage({ slots: 1 << 4 })
    const names = Array.from({ length: 16 }, (_, i) => `n${i}`)
    names.forEach((name, i) => storage.setStatus(name, { ...record, epoch: i + 1 }))
    names.forEach((name, i) => expect(storage.getStatus(name)?.epoch).toBe(i + 1))
  })
})

describe('counters', () => {
  it('a recordBatch of 3e9 saturates the count instead of wrapping it negative', () => {
    const storage = freshStorage()
    expect(storage.recordBatch('big', { failures: 3e9, successes: 3e9 }, 60_000)).toEqual({ failures: 3e9, successes: 3e9 })
    const saturated = storage.recordBatch('big', { failures: 3e9, successes: 1 }, 60_000)
    expect(saturated).toEqual({ failures: 2 ** 32 - 1, successes: 3e9 + 1 })
    expect(storage.record('big', 'failure', 0, 60_000).failures).toBe(2 ** 32 - 1)
    expect(storage.recordBatch('huge', { failures: Number.MAX_SAFE_INTEGER, successes: Infinity }, 60_000)).toEqual({
      failures: 2 ** 32 - 1,
      successes: 2 ** 32 - 1,
    })
  })

  it('counts saturated in many seconds add up across the window without wrapping', () => {
    let now = Date.UTC(2026, 0, 1)
    const storage = freshStorage({ clock: () => now })
    for (let i = 0; i < 5; i++) {
      storage.recordBatch('many', { failures: 2 ** 32, successes: 0 }, 60_000)
      now += 1_000
    }
    expect(storage.failureCount('many', 60_000)).toBe(5 * (2 ** 32 - 1))
  })
})

describe('windows', () => {
  it('a window longer than bucketCount seconds counts only what the ring holds', () => {
    let now = Date.UTC(2026, 0, 1)
    const storage = freshStorage({ bucketCount: 10, clock: () => now })
    storage.recordFailure('w', 1)
    now += 9_000
    expect(storage.failureCount('w', 60_000)).toBe(1)
    now += 2_000
    expect(storage.failureCount('w', 60_000)).toBe(0)
    expect(storage.maxWindowMs).toBe(10_000)
  })

  it('a write from a clock a whole ring behind does not count into a newer second', () => {
    let now = Date.UTC(2026, 0, 1)
    const storage = freshStorage({ bucketCount: 10, clock: () => now })
    storage.recordFailure('late', 1)
    now -= 10_000
    storage.recordFailure('late', 1)
    now += 10_000
    expect(storage.failureCount('late', 1_000)).toBe(1)
  })
})

describe('leases', () => {
  it('at most leasesPerCircuit permits exist however high max is', () => {
    const storage = freshStorage({ leasesPerCircuit: 2 })
    expect(storage.acquireProbe('p', 5, 1_000)).not.toBeNull()
    expect(storage.acquireProbe('p', 5, 1_000)).not.toBeNull()
    expect(storage.acquireProbe('p', 5, 1_000)).toBeNull()
  })

  it('a permit cell whose expiry was overwritten with a far future time does not block probes forever', () => {
    const storage = freshStorage({ slots: 1, leasesPerCircuit: 1 })
    expect(storage.acquireProbe('p', 1, 1_000)).not.toBeNull()
    const buffer = addon.shmAttach(storage.info().shmid)
    new Float64Array(buffer)[(HEADER_BYTES + S.LEASES + L.EXPIRES_AT) >> 3] = Infinity
    addon.shmDetach(buffer)
    expect(storage.acquireProbe('p', 1, 1_000)).not.toBeNull()
  })

  it('a permit released after clearAll frees nothing that was handed out since', () => {
    const storage = freshStorage()
    const stale = storage.acquireProbe('p', 1, 60_000)!
    storage.clearAll()
    expect(storage.acquireProbe('p', 1, 60_000)).not.toBeNull()
    stale.release()
    expect(storage.acquireProbe('p', 1, 60_000)).toBeNull()
  })
})

describe('status', () => {
  it('refuses a malformed record instead of storing it for every process', () => {
    const storage = freshStorage()
    const error = thrown(() => storage.setStatus('s', { ...record, status: 'ajar' as never }))
    expect(isStorageError(error)).toBe(true)
    expect(storage.getStatus('s')).toBeNull()
  })
})

describe('subscribe', () => {
  it('clear and clearAll push resync notices, here at once and to other handles within watchIntervalMs', async () => {
    const path = freshPath()
    const here = freshStorage({ path })
    const there = freshStorage({ path, watchIntervalMs: 5 })
    const heard: unknown[] = []
    const seen: unknown[] = []
    const stopHere = here.subscribe((notice) => heard.push(notice))
    const stopThere = there.subscribe((notice) => seen.push(notice))
    here.setStatus('c', record)
    here.clear('c')
    expect(heard).toEqual([{ circuit: 'c', record }, { resync: true, circuit: 'c' }])
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(seen).toEqual([{ resync: true, circuit: 'c' }])
    here.clearAll()
    expect(heard.at(-1)).toEqual({ resync: true })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(seen.at(-1)).toEqual({ resync: true })
    stopHere()
    stopThere()
  })
})

describe('close and destroy', () => {
  it('close detaches this handle only: it then throws, the others keep the state', async () => {
    const path = freshPath()
    const closing = freshStorage({ path })
    const staying = freshStorage({ path })
    closing.recordFailure('kept', 1)
    await closing.close()
    await closing.close()
    const error = thrown(() => closing.recordFailure('kept', 1))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch('the storage is closed')
    expect(staying.failureCount('kept', 60_000)).toBe(1)
    expect(staying.info().attached).toBe(1)
  })

  it('destroy removes the segment and semaphores from the system', () => {
    const storage = freshStorage()
    const { shmid, semid } = storage.info()
    storage.destroy()
    expect((thrown(() => addon.shmStat(shmid)) as Error & { code: string }).code).toBe('EINVAL')
    expect((thrown(() => addon.semValue(semid, 0)) as Error & { code: string }).code).toMatch(/EINVAL|EIDRM/)
    storage.destroy()
  })

  it('after destroy elsewhere, status writes fail with a StorageError while counters still answer', () => {
    const path = freshPath()
    const survivor = freshStorage({ path, lockTimeoutMs: 50 })
    survivor.recordFailure('c', 1)
    freshStorage({ path }).destroy()
    const error = thrown(() => survivor.setStatus('s', record))
    expect(isStorageError(error)).toBe(true)
    expect(error.message).toMatch('is unusable')
    survivor.recordFailure('c', 1)
    expect(survivor.failureCount('c', 60_000)).toBe(2)
  })
})
