import { StatusListeners } from '@breaker/core'
import type { StatusListener, StatusRecord } from '@breaker/core'
import { H, S, SLOT_USED } from './layout.js'
import type { Segment } from './segment.js'
import { slotOffset } from './slots.js'
import type { StatusCells } from './status.js'

const decoder = new TextDecoder()

/**
 * Pushes status writes to `subscribe` listeners. Writes made through this storage are told at
 * once; writes by other processes are found by one timer per storage (unref'd, running only
 * while someone listens) that checks the header's change counter every `intervalMs` and, when it
 * moved, which slots' status versions moved. Of several writes another process makes to one
 * circuit between two checks, listeners see the newest.
 */
export class StatusWatch {
  private readonly listeners = new StatusListeners()
  /** Slot offset → status version last told (or seen when listening started). */
  private readonly seen = new Map<number, number>()
  private changes = 0
  private generation = 0
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly segment: Segment,
    private readonly status: StatusCells,
    private readonly intervalMs: number,
  ) {}

  /** Adds a listener; answers its unsubscribe. */
  add(listener: StatusListener): () => void {
    if (this.listeners.size === 0) this.start()
    const remove = this.listeners.add(listener)
    return () => {
      remove()
      if (this.listeners.size === 0) this.stop()
    }
  }

  /** Tells listeners of a write this process just made to the slot at `slot` (status version `version`). */
  wrote(slot: number, version: number, circuit: string, record: StatusRecord): void {
    if (this.listeners.size === 0) return
    this.seen.set(slot, version)
    this.listeners.notify(circuit, record)
  }

  /** Tells listeners that this process removed the status of `circuit` (version `version`), or of every circuit. */
  removed(slot?: number, version?: number, circuit?: string): void {
    if (this.listeners.size === 0) return
    if (slot === undefined || version === undefined) {
      this.generation = Atomics.load(this.segment.i32, H.GENERATION)
      this.seen.clear()
      this.listeners.resync()
      return
    }
    this.seen.set(slot, version)
    this.listeners.resync(circuit)
  }

  /** Stops the timer for good (close, destroy). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private start(): void {
    const { i32, layout } = this.segment
    this.changes = Atomics.load(i32, H.STATUS_CHANGES)
    this.generation = Atomics.load(i32, H.GENERATION)
    this.seen.clear()
    // What is already there is not news: remember every slot's current version.
    for (let index = 0; index < layout.slots; index++) {
      const slot = slotOffset(layout.slotBytes, index)
      if (Atomics.load(i32, (slot + S.STATE) >> 2) === SLOT_USED) this.seen.set(slot, Atomics.load(i32, (slot + S.STATUS_VERSION) >> 2))
    }
    this.timer = setInterval(() => this.check(), this.intervalMs)
    this.timer.unref()
  }

  private check(): void {
    const { i32, u8, layout } = this.segment
    if (!this.segment.attached) return this.stop()
    const changes = Atomics.load(i32, H.STATUS_CHANGES)
    if (changes === this.changes) return
    this.changes = changes
    const generation = Atomics.load(i32, H.GENERATION)
    if (generation !== this.generation) {
      // clearAll freed every slot: versions restart from 0 under possibly other names, and
      // every status is gone.
      this.generation = generation
      this.seen.clear()
      this.listeners.resync()
    }
    for (let index = 0; index < layout.slots; index++) {
      const slot = slotOffset(layout.slotBytes, index)
      if (Atomics.load(i32, (slot + S.STATE) >> 2) !== SLOT_USED) continue
      const version = Atomics.load(i32, (slot + S.STATUS_VERSION) >> 2)
      if ((this.seen.get(slot) ?? 0) === version) continue
      this.seen.set(slot, version)
      // The length is read from shared memory: keep it inside the name field whatever it says.
      const length = Math.min(Math.max(i32[(slot + S.NAME_LENGTH) >> 2]!, 0), layout.nameBytes)
      const name = decoder.decode(u8.subarray(slot + layout.nameOffset, slot + layout.nameOffset + length))
      const record = this.status.readAt(slot, name, 'subscribe')
      // A version that moved to "no status" is a clear(circuit) elsewhere (or a corrupt record,
      // reported and read as absent): listeners drop what they hold for it.
      if (record === null) this.listeners.resync(name)
      else this.listeners.notify(name, record)
    }
  }
}
