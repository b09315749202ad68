import { statSync } from 'node:fs'
import { StorageError, StorageTimeoutError } from '@breaker/core'
import type { SegmentStat, SysVAddon } from './addon.js'
import { H, READY, headerProblem, unfinishedProblem, writeHeader } from './layout.js'
import type { Layout, PathIdentity } from './layout.js'
import { SCOPE } from './options.js'
import { ipcPermissionProblem } from './ownership.js'

/** Semaphore 0 guards structure (creation, slot claims, clearAll); 1 guards status and lease writes. */
export const STRUCTURE_LOCK = 0
export const WRITE_LOCK = 1
const SEMAPHORES = 2
const STORAGE_NAME = 'sysv'

/** Where and how to open a segment. */
export interface SegmentRequest {
  readonly path: string
  readonly projectId: number
  readonly mode: number
  /** Uid that must own and have created an existing segment and semaphore set. */
  readonly owner: number
  readonly layout: Layout
  readonly lockTimeoutMs: number
  readonly now: number
}

function fail(operation: string, message: string, cause?: unknown): StorageError {
  return new StorageError(STORAGE_NAME, operation, `[${SCOPE}] ${message}`, { cause })
}

function systemMessage(error: unknown, creating = false): string {
  const code = (error as { code?: unknown }).code
  const base = error instanceof Error ? error.message : String(error)
  if (code === 'EACCES') return `${base}: it belongs to another user or its mode forbids this one (see \`ipcs -m\`)`
  if (creating && (code === 'ENOSPC' || code === 'ENOMEM' || code === 'EINVAL')) {
    return `${base} (system limits: \`sysctl kernel.shmmax kernel.shmall kernel.shmmni kernel.sem\`)`
  }
  return base
}

/** The key `ftok` derives from `path`, plus the path's identity for the header. */
export function keyOf(addon: SysVAddon, path: string, projectId: number): { key: number; identity: PathIdentity } {
  let stats
  try {
    stats = statSync(path)
  } catch (cause) {
    throw fail('open', `path ${JSON.stringify(path)} must name an existing file or directory (its inode keys the segment)`, cause)
  }
  return { key: addon.ftok(path, projectId), identity: { inode: stats.ino, device: stats.dev } }
}

/** Formats a key the way `ipcs` prints it. */
export const hexKey = (key: number): string => `0x${(key >>> 0).toString(16).padStart(8, '0')}`

/**
 * One attachment of a shared segment plus its semaphore set, and the typed views JS works on.
 * Opening is race-free: the structure lock is held while the segment is created (exclusively)
 * and initialised, so a second opener waits until the header is complete. SEM_UNDO hands the
 * lock back when a holder dies, and a segment whose creator died mid-way is initialised again.
 */
export class Segment {
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly u8: Uint8Array
  readonly b64: BigInt64Array
  /** False once detached. */
  attached = true

  private constructor(
    readonly addon: SysVAddon,
    readonly key: number,
    readonly shmid: number,
    readonly semid: number,
    readonly buffer: ArrayBuffer,
    readonly layout: Layout,
    /** True when this process created the segment. */
    readonly created: boolean,
  ) {
    this.i32 = new Int32Array(buffer)
    this.f64 = new Float64Array(buffer, 0, buffer.byteLength >> 3)
    this.u8 = new Uint8Array(buffer)
    this.b64 = new BigInt64Array(buffer, 0, buffer.byteLength >> 3)
  }

  /**
   * Opens (creating when absent) the segment for `request`.
   * @throws StorageError when the segment cannot be created or is incompatible.
   */
  static open(addon: SysVAddon, request: SegmentRequest): Segment {
    const { key, identity } = keyOf(addon, request.path, request.projectId)
    const where = `segment ${hexKey(key)} (ftok of ${JSON.stringify(request.path)}, projectId ${request.projectId})`
    let semid: number
    try {
      semid = addon.semOpen(key, SEMAPHORES, request.mode)
    } catch (cause) {
      throw fail('open', `cannot open the semaphores of ${where}: ${systemMessage(cause, true)}`, cause)
    }
    // Checked before taking the lock: a set planted by another user could be held forever.
    const semProblem = ipcPermissionProblem(addon.semStat(semid), request.owner, request.mode, {
      what: `the semaphore set of ${where}, semid ${semid},`,
      remove: `ipcrm -s ${semid}`,
    })
    if (semProblem !== null) throw fail('open', semProblem)
    lock(addon, semid, STRUCTURE_LOCK, request.lockTimeoutMs, 'open')
    try {
      return Segment.openLocked(addon, request, key, semid, identity, where)
    } finally {
      addon.semUnlock(semid, STRUCTURE_LOCK)
    }
  }

  private static openLocked(
    addon: SysVAddon,
    request: SegmentRequest,
    key: number,
    semid: number,
    identity: PathIdentity,
    where: string,
  ): Segment {
    const { layout } = request
    let shmid: number
    let created = false
    try {
      shmid = addon.shmCreate(key, layout.totalBytes, request.mode)
      if (shmid !== -1) created = true
      else shmid = addon.shmOpen(key)
    } catch (cause) {
      throw fail('open', `cannot create ${where} (${layout.totalBytes} bytes): ${systemMessage(cause, true)}`, cause)
    }
    if (shmid === -1) throw fail('open', `${where} vanished while it was being opened; try again`)
    if (!created) {
      // Before attaching: a segment planted by another user is neither read nor written.
      const problem = ipcPermissionProblem(addon.shmStat(shmid), request.owner, request.mode, {
        what: `${where}, shmid ${shmid},`,
        remove: `ipcrm -m ${shmid}`,
      })
      if (problem !== null) throw fail('open', problem)
    }
    let buffer: ArrayBuffer
    try {
      buffer = addon.shmAttach(shmid)
    } catch (cause) {
      throw fail('open', `cannot attach ${where} (shmid ${shmid}): ${systemMessage(cause)}`, cause)
    }
    const segment = new Segment(addon, key, shmid, semid, buffer, layout, created)
    try {
      if (created) {
        writeHeader(segment.i32, segment.f64, layout, identity, request.now)
      } else if (Atomics.load(segment.i32, H.READY) !== READY) {
        // Not READY: maybe a creator that died before finishing (we hold the lock, so nobody
        // is finishing it now), maybe something else entirely; only the former is rewritten.
        const attached = addon.shmStat(shmid).attached
        const problem = unfinishedProblem(segment.i32, buffer.byteLength, layout, attached, `${where} (shmid ${shmid})`, shmid)
        if (problem !== null) throw fail('open', problem)
        writeHeader(segment.i32, segment.f64, layout, identity, request.now)
      } else {
        const problem = headerProblem(segment.i32, segment.f64, buffer.byteLength, layout, identity, `${where} (shmid ${shmid})`)
        if (problem !== null) throw fail('open', problem)
      }
      return segment
    } catch (error) {
      segment.detach()
      throw error
    }
  }

  /** Takes one of the two locks; throws `StorageTimeoutError` after `timeoutMs`. */
  lock(index: number, timeoutMs: number, operation: string, circuit?: string): void {
    lock(this.addon, this.semid, index, timeoutMs, operation, circuit)
  }

  /** Gives a lock back. */
  unlock(index: number, operation: string, circuit?: string): void {
    try {
      this.addon.semUnlock(this.semid, index)
    } catch (cause) {
      throw new StorageError(STORAGE_NAME, operation, `[${SCOPE}] semaphore ${this.semid} is unusable: ${systemMessage(cause)}`, {
        cause,
        circuit,
      })
    }
  }

  /** The kernel's view of the segment. */
  stat(): SegmentStat {
    return this.addon.shmStat(this.shmid)
  }

  /** Detaches this process; the segment and its data stay for the others. */
  detach(): void {
    if (!this.attached) return
    this.attached = false
    this.addon.shmDetach(this.buffer)
  }

  /**
   * Removes the segment and the semaphores from the system, then detaches. Safe to repeat:
   * what is already gone (removed here, elsewhere or by `ipcrm`) is skipped.
   */
  remove(): void {
    try {
      ignoreGone(() => this.addon.shmRemove(this.shmid))
      ignoreGone(() => this.addon.semRemove(this.semid))
    } finally {
      this.detach()
    }
  }
}

// EINVAL / EIDRM: the id no longer names anything, which is what removing wanted.
function ignoreGone(fn: () => void): void {
  try {
    fn()
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code !== 'EINVAL' && code !== 'EIDRM') throw error
  }
}

function lock(addon: SysVAddon, semid: number, index: number, timeoutMs: number, operation: string, circuit?: string): void {
  let taken: boolean
  try {
    taken = addon.semLock(semid, index, timeoutMs)
  } catch (cause) {
    // EIDRM / EINVAL: someone removed the semaphores (destroy() elsewhere, or ipcrm).
    throw new StorageError(STORAGE_NAME, operation, `[${SCOPE}] semaphore ${semid} is unusable: ${systemMessage(cause)}`, {
      cause,
      circuit,
    })
  }
  if (!taken) throw new StorageTimeoutError(STORAGE_NAME, operation, timeoutMs, circuit)
}

/**
 * Removes the segment and semaphores keyed by `path` and `projectId`, attached or not, without
 * checking their layout: the way out of an incompatible segment. Answers what it found.
 */
export function removeSegment(addon: SysVAddon, path: string, projectId: number): { segment: boolean; semaphores: boolean } {
  const { key } = keyOf(addon, path, projectId)
  const shmid = addon.shmOpen(key)
  if (shmid !== -1) addon.shmRemove(shmid)
  // semOpen would create a set that does not exist; 0 semaphores asks only for an existing one.
  let semid = -1
  try {
    semid = addon.semOpen(key, 0, 0)
  } catch {
    semid = -1
  }
  return { segment: shmid !== -1, semaphores: semid !== -1 && (addon.semRemove(semid), true) }
}
