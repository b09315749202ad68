import type { EventLogEntry, Outcome } from '@breaker/core'

const FAILURE = 1
const SUCCESS = 0

/**
 * The detailed event log of one circuit: the newest `capacity` outcomes with their time and
 * duration, in parallel typed arrays (17 bytes an entry, no object per entry). Entries are
 * built only when `eventLog` is read. Grows on demand up to `capacity`, then overwrites the oldest.
 */
export class EventRing {
  private at = new Float64Array(0)
  private duration = new Float64Array(0)
  private type = new Uint8Array(0)
  // Index the next entry goes to, and how many entries are held.
  private next = 0
  private size = 0

  constructor(private readonly capacity: number) {}

  /** Logs one outcome. */
  push(outcome: Outcome, at: number, durationMs: number): void {
    const { capacity } = this
    if (capacity === 0) return
    if (this.size < capacity && this.size === this.at.length) {
      this.grow(Math.min(capacity, Math.max(8, this.at.length * 2)))
      this.next = this.size
    }
    const i = this.next
    this.at[i] = at
    this.duration[i] = durationMs
    this.type[i] = outcome === 'failure' ? FAILURE : SUCCESS
    this.next = i + 1 === this.at.length ? 0 : i + 1
    if (this.size < capacity) this.size++
  }

  /** The newest `limit` entries, newest first. */
  newest(limit: number): EventLogEntry[] {
    const count = Math.max(0, Math.min(Math.floor(limit), this.size))
    const entries: EventLogEntry[] = new Array(count)
    const length = this.at.length
    for (let k = 0; k < count; k++) {
      const i = (this.next - 1 - k + length) % length
      entries[k] = { type: this.type[i] === FAILURE ? 'failure' : 'success', at: this.at[i]!, durationMs: this.duration[i]! }
    }
    return entries
  }

  /** Entries held. */
  get length(): number {
    return this.size
  }

  /** Bytes held by the log's arrays. */
  get bytes(): number {
    return this.at.byteLength + this.duration.byteLength + this.type.byteLength
  }

  private grow(length: number): void {
    // Until the log is full, entries sit at 0..size-1 in order, so copying keeps `next` valid.
    const at = new Float64Array(length)
    const duration = new Float64Array(length)
    const type = new Uint8Array(length)
    at.set(this.at)
    duration.set(this.duration)
    type.set(this.type)
    this.at = at
    this.duration = duration
    this.type = type
  }
}
