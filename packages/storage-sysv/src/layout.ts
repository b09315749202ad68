import { ConfigurationError } from '@breaker/core'
import { SCOPE } from './options.js'

/**
 * Byte layout of a segment. Everything is little blocks of Int32 / Float64 at fixed offsets so
 * that JS can use `Atomics` on views over the shared memory; the addon knows none of it.
 *
 * ```
 * header (128 B) | slot 0 | slot 1 | … | slot N-1
 * slot: control (32 B) | status ×2 (96 B) | leases (16 B each) | name (256 B) | buckets (16 B each)
 * ```
 * Bump LAYOUT_VERSION on any change to this file: an older or newer process must refuse the
 * segment rather than misread it. Version 2 grew each status record from 32 to 48 bytes for the
 * `backoff` and `holds` counters.
 */
export const LAYOUT_VERSION = 2
/** `'BRKS'`: tells a @breaker segment from another program's segment that happens to share the key. */
export const MAGIC = 0x42524b53
/** Written last by the creator: a segment without it was never fully initialised. */
export const READY = 0x52454459

export const HEADER_BYTES = 128
/** Header fields, as Int32 word indices. */
export const H = {
  MAGIC: 0,
  VERSION: 1,
  READY: 2,
  HEADER_BYTES: 3,
  SLOTS: 4,
  BUCKETS: 5,
  LEASES: 6,
  NAME_BYTES: 7,
  SLOT_BYTES: 8,
  GRANULARITY_MS: 9,
  /** Bumped by clearAll, which frees every slot: cached name → slot maps are stale after it. */
  GENERATION: 10,
  SLOTS_USED: 11,
  CREATOR_PID: 12,
  /** Bumped by every status write, so watchers notice a change with one load. */
  STATUS_CHANGES: 13,
  /** Float64 indices: the inode and device of the keyed path, to detect an ftok key collision. */
  INODE_F64: 8,
  DEVICE_F64: 9,
  CREATED_AT_F64: 10,
} as const

/** Longest circuit name, in UTF-8 bytes. */
export const NAME_BYTES = 256
export const STATUS_RECORD_BYTES = 48
export const LEASE_BYTES = 16
export const BUCKET_BYTES = 16
/** Slot fields, as byte offsets from the slot's start. */
export const S = {
  /** 0 = free, SLOT_USED = taken (name published). */
  STATE: 0,
  HASH: 4,
  NAME_LENGTH: 8,
  /** Seqlock version of the status; its low bit says which of the two records is current. */
  STATUS_VERSION: 12,
  /** Last lease id handed out. */
  LEASE_SEQUENCE: 16,
  /** Bumped by clear(circuit), so processes drop the sums they keep of this slot. */
  CLEARS: 20,
  STATUS: 32,
  LEASES: 128,
} as const
export const SLOT_USED = 1

/**
 * Within a status record (bytes): state code, then epoch, openedAt (NaN = null), updatedAt,
 * backoff and holds (0 = absent) as Float64 — a Float64 holds every safe integer, so no count
 * the contract allows is ever truncated.
 */
export const R = { CODE: 0, EPOCH: 8, OPENED_AT: 16, UPDATED_AT: 24, BACKOFF: 32, HOLDS: 40 } as const
/** Within a lease (bytes): id (0 = free), then expiresAt (epoch ms) as Float64. */
export const L = { ID: 0, EXPIRES_AT: 8 } as const

// Largest segment we agree to create; keeps every byte offset a safe Int32 index.
const MAX_TOTAL_BYTES = 1 << 30

/** The sizes that fix a segment's shape; stored in its header and compared on every open. */
export interface Layout {
  readonly slots: number
  readonly bucketCount: number
  readonly leases: number
  readonly nameBytes: number
  /** Bytes per slot. */
  readonly slotBytes: number
  /** Offset of the name inside a slot (bytes). */
  readonly nameOffset: number
  /** Offset of bucket 0 inside a slot (bytes). */
  readonly bucketsOffset: number
  /** Whole segment (bytes). */
  readonly totalBytes: number
}

/**
 * Computes the layout for the given sizes.
 * @throws ConfigurationError when the segment would exceed 1 GiB.
 */
export function computeLayout(slots: number, bucketCount: number, leases: number): Layout {
  const nameOffset = S.LEASES + leases * LEASE_BYTES
  const bucketsOffset = nameOffset + NAME_BYTES
  const slotBytes = bucketsOffset + bucketCount * BUCKET_BYTES
  const totalBytes = HEADER_BYTES + slots * slotBytes
  if (totalBytes > MAX_TOTAL_BYTES) {
    throw new ConfigurationError(
      'slots',
      `× bucketCount makes a ${Math.ceil(totalBytes / 2 ** 20)} MiB segment, over the 1024 MiB limit; lower slots or bucketCount`,
      slots,
      SCOPE,
    )
  }
  return { slots, bucketCount, leases, nameBytes: NAME_BYTES, slotBytes, nameOffset, bucketsOffset, totalBytes }
}

/** Fills in a fresh header; `READY` is stored last, so a reader never sees half a header as valid. */
export function writeHeader(i32: Int32Array, f64: Float64Array, layout: Layout, identity: PathIdentity, now: number): void {
  i32[H.MAGIC] = MAGIC
  i32[H.VERSION] = LAYOUT_VERSION
  i32[H.HEADER_BYTES] = HEADER_BYTES
  i32[H.SLOTS] = layout.slots
  i32[H.BUCKETS] = layout.bucketCount
  i32[H.LEASES] = layout.leases
  i32[H.NAME_BYTES] = layout.nameBytes
  i32[H.SLOT_BYTES] = layout.slotBytes
  i32[H.GRANULARITY_MS] = 1000
  i32[H.CREATOR_PID] = process.pid
  f64[H.INODE_F64] = identity.inode
  f64[H.DEVICE_F64] = identity.device
  f64[H.CREATED_AT_F64] = now
  Atomics.store(i32, H.READY, READY)
}

/** Inode and device of the keyed path, kept in the header. */
export interface PathIdentity {
  readonly inode: number
  readonly device: number
}

/**
 * For an existing segment whose READY word is not set: `null` when it may be initialised again,
 * else why it is refused (and left untouched).
 *
 * Initialising wipes the segment, so it is done only for what can be nothing but an unfinished
 * segment of ours: a creator holds the structure lock while it writes the header and dies
 * holding it or not at all, so such a segment has this process as its only attachment, every
 * slot still zero, and a header that is either all zero (died before the magic) or has our
 * magic with the READY word still zero. Another program's segment on the same key, or a live
 * segment of ours whose READY word was overwritten, is neither.
 */
export function unfinishedProblem(i32: Int32Array, bytes: number, layout: Layout, attached: number, where: string, shmid: number): string | null {
  const magic = i32[H.MAGIC]!
  const ready = i32[H.READY]!
  const ours = magic === MAGIC
  if (bytes < layout.totalBytes) {
    return ours
      ? `${where} is an unfinished @breaker/storage-sysv segment of ${bytes} bytes, smaller than the ${layout.totalBytes} this process needs: remove it (SysVStorage.remove(path) or \`ipcrm -m ${shmid}\`)`
      : `${where} is not a @breaker/storage-sysv segment (magic ${hex(magic)}, ${bytes} bytes); another program uses this key, and its data is left untouched: choose another path or projectId`
  }
  const headerZero = allZero(i32, 0, HEADER_BYTES >> 2)
  if (!ours && !headerZero) {
    return `${where} is not a @breaker/storage-sysv segment (magic ${hex(magic)}); another program uses this key, and its data is left untouched: choose another path or projectId`
  }
  const others = attached - 1
  if ((ours && ready !== 0) || others > 0 || !allZero(i32, HEADER_BYTES >> 2, bytes >> 2)) {
    return (
      `${where} carries ${ours ? '@breaker/storage-sysv data' : 'data'} but its READY word reads ${hex(ready)}` +
      `${others > 0 ? ` while ${others} other process${others === 1 ? ' is' : 'es are'} attached` : ''}: ` +
      'it was overwritten, not left unfinished, so it is left untouched. Stop the processes using it and remove it ' +
      `(SysVStorage.remove(path) or \`ipcrm -m ${shmid}\`)`
    )
  }
  return null
}

function allZero(i32: Int32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (i32[i] !== 0) return false
  return true
}

const hex = (word: number): string => `0x${(word >>> 0).toString(16).padStart(8, '0')}`

/**
 * Why an existing segment cannot be used with `layout`, or `null` when it can.
 * `where` names the segment in messages (path, key, shmid).
 */
export function headerProblem(
  i32: Int32Array,
  f64: Float64Array,
  bytes: number,
  layout: Layout,
  identity: PathIdentity,
  where: string,
): string | null {
  if (bytes < HEADER_BYTES) return `${where} is ${bytes} bytes, too small to be a @breaker segment (another program's segment with the same key?)`
  const magic = Atomics.load(i32, H.MAGIC)
  if (magic !== MAGIC) {
    return `${where} is not a @breaker/storage-sysv segment (magic ${hex(magic)}); another program uses this key: choose another path or projectId`
  }
  const version = Atomics.load(i32, H.VERSION)
  if (version !== LAYOUT_VERSION) {
    return (
      `${where} has layout version ${version}, but this @breaker/storage-sysv reads version ${LAYOUT_VERSION}; ` +
      'stop the processes of the other version and remove the segment (SysVStorage.remove(path) or `ipcrm -m <shmid>`)'
    )
  }
  if (f64[H.INODE_F64] !== identity.inode || f64[H.DEVICE_F64] !== identity.device) {
    return `${where} was created for another file (inode ${f64[H.INODE_F64]}, device ${f64[H.DEVICE_F64]}): the ftok keys collide; choose another path or projectId`
  }
  const found = {
    slots: i32[H.SLOTS],
    bucketCount: i32[H.BUCKETS],
    leasesPerCircuit: i32[H.LEASES],
    nameBytes: i32[H.NAME_BYTES],
  }
  const wanted = { slots: layout.slots, bucketCount: layout.bucketCount, leasesPerCircuit: layout.leases, nameBytes: layout.nameBytes }
  const differs = (Object.keys(wanted) as (keyof typeof wanted)[]).filter((key) => found[key] !== wanted[key])
  if (differs.length > 0 || i32[H.SLOT_BYTES] !== layout.slotBytes || bytes < layout.totalBytes) {
    const list = (sizes: Record<string, number | undefined>) => differs.map((key) => `${key}=${sizes[key]}`).join(', ')
    return `${where} was created with ${list(found) || 'other sizes'}, but this process asks for ${list(wanted) || 'other sizes'}; every process sharing a segment must pass the same sizes`
  }
  return null
}
