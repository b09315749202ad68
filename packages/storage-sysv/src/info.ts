import { H, LAYOUT_VERSION } from './layout.js'
import { hexKey } from './segment.js'
import type { Segment } from './segment.js'

/** What `SysVStorage.info()` reports about its segment. */
export interface SegmentInfo {
  /** The IPC key as `ipcs` prints it, e.g. `'0x4200c0fc'`. */
  readonly key: string
  /** Segment id (`ipcs -m`, `ipcrm -m <shmid>`). */
  readonly shmid: number
  /** Semaphore set id (`ipcs -s`). */
  readonly semid: number
  /** Segment size in bytes. */
  readonly bytes: number
  /** Attachments across every process. */
  readonly attached: number
  /** Permission bits, e.g. `0o600`. */
  readonly mode: number
  /** Layout version of the segment. */
  readonly layoutVersion: number
  /** Circuit names the segment can hold. */
  readonly slots: number
  /** Circuit names it holds now. */
  readonly slotsUsed: number
  /** Per-second buckets per circuit (the longest window, in seconds). */
  readonly bucketCount: number
  /** Probe permits a circuit can hand out at once. */
  readonly leasesPerCircuit: number
  /** True when this process created the segment. */
  readonly created: boolean
}

/** Reads what `SysVStorage.info()` reports; throws the addon's error when the segment is gone. */
export function segmentInfo(segment: Segment): SegmentInfo {
  const stat = segment.stat()
  return {
    key: hexKey(segment.key),
    shmid: segment.shmid,
    semid: segment.semid,
    bytes: stat.size,
    attached: stat.attached,
    mode: stat.mode,
    layoutVersion: LAYOUT_VERSION,
    slots: segment.layout.slots,
    slotsUsed: Atomics.load(segment.i32, H.SLOTS_USED),
    bucketCount: segment.layout.bucketCount,
    leasesPerCircuit: segment.layout.leases,
    created: segment.created,
  }
}
