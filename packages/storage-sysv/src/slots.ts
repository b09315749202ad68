import { StorageError } from '@breaker/core'
import type { StatusRecord } from '@breaker/core'
import { H, HEADER_BYTES, S, SLOT_USED } from './layout.js'
import { SCOPE } from './options.js'
import { STRUCTURE_LOCK } from './segment.js'
import type { Segment } from './segment.js'

const encoder = new TextEncoder()

/** FNV-1a over UTF-8 bytes: cheap, and good enough to spread names over an open-addressed table. */
function fnv1a(bytes: Uint8Array, length: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193)
  return hash | 0
}

/** What this process knows of one name's slot; valid while the header's generation is unchanged. */
export interface SlotEntry {
  /** Byte offset of the slot. */
  readonly offset: number
  /**
   * The slot's status version when `record` was decoded (NaN: never). Not a cache of the
   * status: every read compares it with the version word in shared memory, which every write
   * bumps, so `record` is the decoding of exactly what is stored now.
   */
  version: number
  /** The decoded status at `version`. */
  record: StatusRecord | null
}

/**
 * Circuit name → slot, by open addressing with linear probing. Lookups are lock-free: a slot's
 * name is written before its state is published with `Atomics.store`, and slots are only ever
 * freed all at once (clearAll, under the structure lock, bumping the generation). Claims take
 * the structure lock and look again, so two processes never claim two slots for one name.
 */
export class SlotTable {
  /** Name → its slot; valid while the header's generation is unchanged. */
  private readonly cache = new Map<string, SlotEntry>()
  private generation: number
  private readonly scratch: Uint8Array

  constructor(
    private readonly segment: Segment,
    private readonly lockTimeoutMs: number,
  ) {
    this.scratch = new Uint8Array(segment.layout.nameBytes + 4)
    this.generation = Atomics.load(segment.i32, H.GENERATION)
  }

  /**
   * Byte offset of the circuit's slot; -1 when it has none and `claim` is false.
   * @throws StorageError when the name is not well-formed, too long, or every slot is taken.
   */
  offset(circuit: string, claim: boolean, operation: string): number {
    return this.entry(circuit, claim, operation)?.offset ?? -1
  }

  /**
   * The circuit's slot entry; `undefined` when it has none and `claim` is false.
   * @throws StorageError when the name is not well-formed, too long, or every slot is taken.
   */
  entry(circuit: string, claim: boolean, operation: string): SlotEntry | undefined {
    // A plain load: the generation is a hint that clearAll ran, and seeing it a moment late is
    // the same race as a write that starts just before clearAll.
    const generation = this.segment.i32[H.GENERATION]!
    if (generation !== this.generation) {
      this.cache.clear()
      this.generation = generation
    }
    const cached = this.cache.get(circuit)
    if (cached !== undefined) return cached
    const length = this.encode(circuit, operation)
    const hash = fnv1a(this.scratch, length)
    let found = this.probe(hash, length)
    if (found < 0 && claim) found = this.claim(circuit, hash, length, operation)
    if (found < 0) return undefined
    const entry: SlotEntry = { offset: found, version: Number.NaN, record: null }
    this.cache.set(circuit, entry)
    return entry
  }

  /** Forgets every cached offset (after this process freed every slot). */
  reset(): void {
    this.cache.clear()
    this.generation = Atomics.load(this.segment.i32, H.GENERATION)
  }

  /** Encodes the name into `scratch`; answers its length in bytes. Runs once per name and generation. */
  private encode(circuit: string, operation: string): number {
    // The UTF-8 bytes are the key. A lone surrogate has no UTF-8 form (the encoder writes U+FFFD
    // for it), so names differing only in lone surrogates would share a slot: refuse them.
    if (typeof circuit !== 'string' || !(circuit as string & { isWellFormed(): boolean }).isWellFormed()) {
      const got = typeof circuit === 'string' ? `${JSON.stringify(circuit.slice(0, 40))} (it holds a lone surrogate)` : typeof circuit
      throw new StorageError('sysv', operation, `[${SCOPE}] circuit names must be strings of well-formed Unicode, got ${got}`, { circuit })
    }
    const limit = this.segment.layout.nameBytes
    const { read, written } = encoder.encodeInto(circuit, this.scratch)
    if (read !== circuit.length || written > limit) {
      throw new StorageError('sysv', operation, `[${SCOPE}] circuit names are limited to ${limit} UTF-8 bytes, got ${JSON.stringify(circuit.slice(0, 40))}… (${encoder.encode(circuit).length} bytes)`, {
        circuit,
      })
    }
    return written
  }

  /** Offset of the slot holding the encoded name, or -(index of the first free slot) - 1. */
  private probe(hash: number, length: number): number {
    const { i32, u8, layout } = this.segment
    const start = (hash >>> 0) % layout.slots
    for (let step = 0; step < layout.slots; step++) {
      const index = (start + step) % layout.slots
      const offset = slotOffset(layout.slotBytes, index)
      const word = offset >> 2
      if (Atomics.load(i32, word + S.STATE / 4) !== SLOT_USED) return -index - 1
      if (i32[word + S.HASH / 4] !== hash || i32[word + S.NAME_LENGTH / 4] !== length) continue
      const name = offset + layout.nameOffset
      let same = true
      for (let i = 0; i < length; i++) {
        if (u8[name + i] !== this.scratch[i]) {
          same = false
          break
        }
      }
      if (same) return offset
    }
    return -layout.slots - 1
  }

  private claim(circuit: string, hash: number, length: number, operation: string): number {
    const { i32, u8, layout } = this.segment
    this.segment.lock(STRUCTURE_LOCK, this.lockTimeoutMs, operation, circuit)
    try {
      // Another process may have claimed it between our look and the lock.
      const again = this.probe(hash, length)
      if (again >= 0) return again
      const index = -again - 1
      if (index >= layout.slots) {
        throw new StorageError(
          'sysv',
          operation,
          `[${SCOPE}] all ${layout.slots} slots of the segment hold other circuits; raise \`slots\` (every process, then remove the old segment) or clearAll()`,
          { circuit },
        )
      }
      const offset = slotOffset(layout.slotBytes, index)
      // Stray writes from before a clearAll may have landed here: start the slot from zero.
      u8.fill(0, offset, offset + layout.slotBytes)
      u8.set(this.scratch.subarray(0, length), offset + layout.nameOffset)
      const word = offset >> 2
      i32[word + S.HASH / 4] = hash
      i32[word + S.NAME_LENGTH / 4] = length
      // Publishing last makes the name visible to lock-free readers only once it is complete;
      // a process killed before this line leaves the slot free.
      Atomics.store(i32, word + S.STATE / 4, SLOT_USED)
      Atomics.add(i32, H.SLOTS_USED, 1)
      return offset
    } finally {
      this.segment.unlock(STRUCTURE_LOCK, operation, circuit)
    }
  }
}

/** Byte offset of slot `index`. */
export function slotOffset(slotBytes: number, index: number): number {
  return HEADER_BYTES + index * slotBytes
}
