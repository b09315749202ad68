import { decodeCount } from '@breaker/core/kit'
import type { WindowCounts } from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'
import { timeoutError } from './errors.js'
import { BATCH, evalScript } from './scripts.js'
import { STATUS_FIELDS } from './status-codec.js'
import { keySlot } from './slot.js'
import { fail, rejectAll, settle, waiter } from './waiters.js'
import type { Waiter } from './waiters.js'

/** Outcomes to add to one circuit's counters, and the windows callers want summed after. */
interface CountOp {
  readonly kind: 'c'
  readonly circuit: string
  failures: number
  successes: number
  keepMs: number
  readonly writers: Array<Waiter<void>>
  readonly windows: Map<number, Array<Waiter<WindowCounts>>>
}

/** Readers of one circuit's status hash. */
interface ReadOp {
  readonly kind: 'r'
  readonly circuit: string
  readonly readers: Array<Waiter<unknown[]>>
}

type Op = CountOp | ReadOp

/** What one script call carries: operations by key, in the order they were first queued. */
interface Batch {
  readonly ops: Map<string, Op>
  timer: ReturnType<typeof setTimeout> | undefined
}

/** Work for one Redis server (one hash slot on a Cluster, as a script may touch one slot only). */
interface Group {
  readonly id: number
  pending: Batch | undefined
  inFlight: number
}

/** Settings of a {@link Batcher}. */
export interface BatcherOptions {
  readonly client: Redis | Cluster
  readonly bucketMs: number
  /** Deadline of each caller's wait (ms), 0 = none. */
  readonly timeout: number
  /** Script calls in flight per group; past it, work waits and merges into the next batch. */
  readonly maxInFlight: number
  /** A count in a reply that is not one (reported, read as 0). */
  readonly onCorrupt: (problem: string, value: unknown, circuit: string) => void
}

/**
 * Sends every counter write and read and every status read queued in one tick as one script
 * call (per hash slot on a Cluster), so circuits flushing their batches in the same sweep, or
 * many callers reading status at once, cost one round trip. At most `maxInFlight` calls are in
 * flight per group; later work waits in one pending batch in which writes to a circuit merge,
 * so a slow Redis holds O(circuits) of state, never a queue per call.
 */
export class Batcher {
  readonly #groups = new Map<number, Group>()
  #scheduled = false

  constructor(private readonly options: BatcherOptions) {}

  /** Adds outcomes to a circuit's counters; settles once they are written. */
  increment(circuit: string, key: string, failures: number, successes: number, keepMs: number, operation: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const op = this.#countOp(circuit, key, failures, successes, keepMs)
      op.writers.push(waiter(operation, resolve, reject))
    })
  }

  /** Adds outcomes (maybe none) and answers the counts over the last `windowMs` ms, in the same trip. */
  count(circuit: string, key: string, failures: number, successes: number, keepMs: number, windowMs: number, operation: string): Promise<WindowCounts> {
    return new Promise((resolve, reject) => {
      const op = this.#countOp(circuit, key, failures, successes, keepMs)
      let waiters = op.windows.get(windowMs)
      if (!waiters) op.windows.set(windowMs, (waiters = []))
      waiters.push(waiter(operation, resolve, reject))
    })
  }

  /** Answers the raw `s, o, e, u, b, h` fields of a status hash. */
  readStatus(circuit: string, key: string): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const batch = this.#batch(key)
      let op = batch.ops.get(key)
      if (!op) batch.ops.set(key, (op = { kind: 'r', circuit, readers: [] }))
      ;(op as ReadOp).readers.push(waiter('getStatus', resolve, reject))
    })
  }

  /**
   * Drops outcomes not yet sent for `keys` (all keys when absent): a clear is about to erase
   * them anyway, and sending them after it would bring them back. Their writers are answered
   * as written-then-cleared.
   */
  drop(keys?: readonly string[]): void {
    for (const group of this.#groups.values()) {
      if (!group.pending) continue
      for (const [key, op] of group.pending.ops) {
        if (op.kind !== 'c' || (keys && !keys.includes(key))) continue
        op.failures = 0
        op.successes = 0
      }
    }
  }

  #countOp(circuit: string, key: string, failures: number, successes: number, keepMs: number): CountOp {
    const batch = this.#batch(key)
    let op = batch.ops.get(key) as CountOp | undefined
    if (!op) {
      op = { kind: 'c', circuit, failures, successes, keepMs, writers: [], windows: new Map() }
      batch.ops.set(key, op)
    } else {
      // Outcomes of one circuit merge: one HINCRBY however many callers.
      op.failures += failures
      op.successes += successes
      if (keepMs > op.keepMs) op.keepMs = keepMs
    }
    return op
  }

  #batch(key: string): Batch {
    const id = this.options.client.isCluster ? keySlot(key) : 0
    let group = this.#groups.get(id)
    if (!group) this.#groups.set(id, (group = { id, pending: undefined, inFlight: 0 }))
    if (!group.pending) {
      const batch: Batch = { ops: new Map(), timer: undefined }
      group.pending = batch
      if (this.options.timeout > 0) this.#arm(batch, this.options.timeout)
      if (!this.#scheduled) {
        this.#scheduled = true
        // After every promise continuation of this tick: all that the tick queued goes together.
        process.nextTick(() => this.#flush())
      }
    }
    return group.pending
  }

  #flush(): void {
    this.#scheduled = false
    for (const group of this.#groups.values()) this.#send(group)
  }

  #send(group: Group): void {
    const batch = group.pending
    if (!batch || group.inFlight >= this.options.maxInFlight) return
    group.pending = undefined
    const keys: string[] = []
    const args: Array<string | number> = [this.options.bucketMs]
    const ops: Op[] = []
    for (const [key, op] of batch.ops) {
      if (op.kind === 'r') {
        if (op.readers.every((w) => w.done)) continue
        args.push('r')
      } else {
        const windows = [...op.windows.keys()]
        if (op.failures === 0 && op.successes === 0 && op.writers.length === 0 && windows.length === 0) continue
        args.push('c', op.failures, op.successes, op.keepMs, windows.length, ...windows)
      }
      keys.push(key)
      ops.push(op)
    }
    if (ops.length === 0) {
      this.#disarm(batch)
      return
    }
    group.inFlight++
    const done = () => {
      this.#disarm(batch)
      group.inFlight--
      // The slot is free: whatever waited goes now, merged.
      this.#send(group)
      // Groups are slots (16 384 at most); idle ones go, so the map stays small.
      if (!group.pending && group.inFlight === 0) this.#groups.delete(group.id)
    }
    evalScript(this.options.client, BATCH, keys, args).then(
      (reply) => {
        try {
          if (!Array.isArray(reply)) throw new TypeError(`batch script answered ${typeof reply}, not an array`)
          this.#dispatch(ops, reply)
        } catch (error) {
          this.#fail(ops, error)
        }
        done()
      },
      (error: unknown) => {
        this.#fail(ops, error)
        done()
      },
    )
  }

  #dispatch(ops: readonly Op[], reply: unknown[]): void {
    let i = 0
    for (const op of ops) {
      const ok = reply[i++]
      if (op.kind === 'r') {
        const fields = reply.slice(i, i + STATUS_FIELDS.length)
        i += STATUS_FIELDS.length
        if (ok !== 1) rejectAll(op.readers, op.circuit, ok)
        else for (const w of op.readers) settle(w, fields)
        continue
      }
      const sums: WindowCounts[] = []
      for (let n = 0; n < op.windows.size; n++) {
        sums.push({ failures: this.#count(reply[i], op.circuit), successes: this.#count(reply[i + 1], op.circuit) })
        i += 2
      }
      if (ok !== 1) {
        rejectAll(op.writers, op.circuit, ok)
        for (const waiters of op.windows.values()) rejectAll(waiters, op.circuit, ok)
        continue
      }
      for (const w of op.writers) settle(w, undefined)
      let n = 0
      for (const waiters of op.windows.values()) {
        const counts = sums[n++]!
        for (const w of waiters) settle(w, counts)
      }
    }
  }

  #count(value: unknown, circuit: string): number {
    const n = decodeCount(value)
    if (n !== undefined) return n
    this.options.onCorrupt(`a window count is not a count: ${String(value)}`, value, circuit)
    return 0
  }

  #fail(ops: readonly Op[], error: unknown): void {
    for (const op of ops) {
      if (op.kind === 'r') for (const w of op.readers) fail(w, error, op.circuit)
      else {
        for (const w of op.writers) fail(w, error, op.circuit)
        for (const waiters of op.windows.values()) for (const w of waiters) fail(w, error, op.circuit)
      }
    }
  }

  /**
   * One timer per batch, not per caller: when it fires, callers that waited `timeout` ms get a
   * `StorageTimeoutError`; it re-arms for any that joined later. Their work stays in the batch
   * and may still be applied (see the README on timed-out writes).
   */
  #arm(batch: Batch, delay: number): void {
    batch.timer = setTimeout(() => {
      batch.timer = undefined
      const timeout = this.options.timeout
      const now = performance.now()
      let next = Infinity
      for (const op of batch.ops.values()) {
        for (const w of waitersOf(op)) {
          if (w.done) continue
          const age = now - w.since
          if (age >= timeout - 1) {
            w.done = true
            w.reject(timeoutError(w.operation, timeout, op.circuit, new Error(`no answer from Redis within ${timeout} ms`)))
          } else next = Math.min(next, timeout - age)
        }
      }
      if (next !== Infinity) this.#arm(batch, next)
    }, delay)
  }

  #disarm(batch: Batch): void {
    if (batch.timer !== undefined) clearTimeout(batch.timer)
    batch.timer = undefined
  }
}

function* waitersOf(op: Op): Iterable<Waiter<never>> {
  if (op.kind === 'r') yield* op.readers as Array<Waiter<never>>
  else {
    yield* op.writers as Array<Waiter<never>>
    for (const waiters of op.windows.values()) yield* waiters as Array<Waiter<never>>
  }
}
