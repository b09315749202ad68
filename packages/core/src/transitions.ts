import type { TransitionMessage } from './channels.js'
import type { HookRunner } from './hooks.js'
import { andThen, attempt, isThenable } from './maybe.js'
import { heldRecord, nextRecord, phaseOf } from './state-machine.js'
import type { Phase } from './state-machine.js'
import type { StatusCache } from './status-cache.js'
import type { CircuitState, MaybePromise, StatusRecord } from './types.js'

/** What a status write came to: written, lost to another writer, or refused by a failing storage. */
type Written = 'won' | 'lost' | 'failed'

/**
 * Writes a circuit's transitions: by compare-and-set where the storage has it, so of racing
 * instances exactly one wins and fires hooks while the others adopt what it wrote, silently.
 * A transition the storage refuses (it failed, or missed its deadline) holds in this instance
 * all the same — a local trip rejects calls until its own reset delay passes, a local close lets
 * them through — firing its hooks once, and gives way to any newer epoch read from storage or
 * to storage's answer when a later compare-and-set is refused.
 */
export class Transitions {
  /** Called when this instance's own write opened the circuit (`cascadesTo`). */
  onOpened: (() => void) | undefined
  #running: { from: Phase; result: MaybePromise<Phase> } | undefined

  constructor(
    readonly cache: StatusCache,
    readonly hooks: HookRunner,
  ) {}

  /** Moves from `from` to `to` at `now` (epoch ms); answers the phase that holds afterwards, whoever wrote it. */
  to(from: Phase, to: CircuitState, now: number): MaybePromise<Phase> {
    // Two failures settling together race to open the same phase: the second joins the first
    // instead of writing (and firing hooks) again.
    const running = this.#running
    if (running && running.from === from) return running.result
    if (from !== this.cache.phase) return this.cache.phase
    // Isolation holds are lifted only by their releases (or a hard reset).
    if (from.state === 'open' && from.held) return from
    const next = nextRecord(from.record, to, now, this.cache.timing.backoff !== undefined)
    const event: TransitionMessage = { circuit: this.cache.io.circuit, from: from.state, to, openedAt: next.openedAt, epoch: next.epoch }
    const result = this.hooks.hasBeforeTransition
      ? andThen(this.hooks.beforeTransition(event), (release) => this.#commit(from, next, event, release))
      : this.#commit(from, next, event, undefined)
    if (isThenable(result)) {
      const entry = { from, result }
      this.#running = entry
      result.then(() => {
        if (this.#running === entry) this.#running = undefined
      })
    }
    return result
  }

  #commit(from: Phase, next: StatusRecord, event: TransitionMessage, release: (() => unknown) | undefined): MaybePromise<Phase> {
    const { io } = this.cache
    const storage = io.storage
    const cas = storage.capabilities.cas && storage.compareAndSetStatus ? storage.compareAndSetStatus.bind(storage) : undefined
    const operation = cas ? 'compareAndSetStatus' : 'setStatus'
    const written = attempt<Written>(
      () => {
        const answer = cas ? cas(io.circuit, from.record.epoch, next) : andThen(storage.setStatus(io.circuit, next), () => true)
        return andThen(io.bound(answer, operation), (won): Written => (won ? 'won' : 'lost'))
      },
      (error) => (io.failed(operation, error), 'failed'),
    )
    return andThen(written, (outcome) => {
      this.hooks.release(release)
      if (outcome === 'lost') return this.#reread()
      const phase = this.cache.set(phaseOf(next, outcome === 'failed', this.cache.timing))
      // Re-entering the state a circuit is already in (reset of a closed circuit) fires nothing.
      if (event.from !== event.to) {
        this.hooks.transition(event)
        if (event.to === 'open') this.onOpened?.()
      }
      return phase
    })
  }

  /** Lost a compare-and-set: storage answered, so it is the truth — adopt what the winner wrote, silently. */
  #reread(): MaybePromise<Phase> {
    const { io } = this.cache
    return attempt(
      () => andThen(io.bound(io.storage.getStatus(io.circuit), 'getStatus'), (record) => this.cache.replace(record)),
      (error) => (io.failed('getStatus', error), this.cache.phase),
    )
  }

  /**
   * Adds (`+1`) or releases (`-1`) one isolation hold, by compare-and-set against what storage
   * holds now, so holds taken on different instances are all counted. The first hold opens the
   * circuit (firing `open` if it was not), the last release closes it.
   */
  async hold(change: 1 | -1, clock: () => number): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const current = await this.cache.fresh()
      if (change === -1 && (current.record.holds ?? 0) === 0) return
      const next = heldRecord(current.record, change, clock())
      const event: TransitionMessage = { circuit: this.cache.io.circuit, from: current.state, to: next.status, openedAt: next.openedAt, epoch: next.epoch }
      const after = await this.#commit(current, next, event, undefined)
      if (after.record === next) return
    }
  }

  /**
   * Moves to `to` from whatever storage holds now (`always`: even when already there, under a
   * fresh epoch). Compare-and-set may lose to another instance moving at the same moment; it
   * tries again on what that one wrote — five rounds is far more than two honest racers need.
   */
  async moveTo(to: CircuitState, always: boolean, clock: () => number): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const current = await this.cache.fresh()
      if (current.state === to && !always) return
      const next = await this.to(current, to, clock())
      if (next.record.epoch > current.record.epoch && next.state === to) return
    }
  }
}
