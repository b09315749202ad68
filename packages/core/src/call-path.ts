import { Answers } from './answers.js'
import { Cancelled, attemptsJob } from './attempts.js'
import type { CallContext, CallOutcome } from './channels.js'
import type { CircuitConfig } from './config.js'
import { Dependencies } from './dependencies.js'
import type { DependencyLookup } from './dependencies.js'
import { isCircuitTimeoutError } from './errors.js'
import { HookRunner } from './hooks.js'
import { isThenable } from './maybe.js'
import { OutcomeRecorder } from './outcomes.js'
import { PendingWrites } from './pending.js'
import { ProbePermits } from './probes.js'
import type { Permit } from './probes.js'
import { StatusCache } from './status-cache.js'
import type { Storage } from './storage.js'
import { StorageIO } from './storage-io.js'
import type { SettleHandlers } from './settle.js'
import { runWithTimeout } from './timeout.js'
import { Transitions } from './transitions.js'
import type { Protected } from './options.js'
import { admit } from './state-machine.js'
import type { HalfOpenPhase, OpenPhase, Phase } from './state-machine.js'
import type { MaybePromise } from './types.js'

const NEVER_ABORTED = new AbortController().signal
const NO_OP = () => {}

/**
 * One circuit's per-call path and the parts it drives: admission against the cached phase, the
 * bulkhead, probes, the call itself with its deadline, outcome counting and fallbacks. `T` is
 * what the fallback serves.
 */
export class CallPath<T> {
  /** Calls that outlived `timeout`. */
  timeouts = 0
  /** The last counted failure's error (when: `outcomes.lastFailureAt`); kept as is, described only by `stats()`. */
  lastError: unknown = undefined
  readonly name: string
  readonly hooks: HookRunner
  readonly io: StorageIO
  readonly cache: StatusCache
  readonly transitions: Transitions
  readonly outcomes: OutcomeRecorder
  readonly pending = new PendingWrites()
  readonly answers: Answers<T>
  readonly #config: CircuitConfig
  readonly #permits: ProbePermits
  readonly #dependencies: Dependencies | undefined
  // Nothing can stand between a call's own promise and its caller: no fallback to serve, and
  // no beforeTransition hook that would make a trip asynchronous.
  readonly #mayHandOver: boolean
  // Outcomes are written one by one (no `batch`).
  readonly #unbatched: boolean
  // Hot options, read on every call, copied out of the config object.
  readonly #hedged: boolean
  readonly #maxConcurrent: number | undefined
  readonly #timeout: number | undefined
  #chained: SettleHandlers | undefined
  // The watching handlers of the current phase, as fields: one object fewer to reach per call.
  #watchPhase: Phase | undefined
  #watchValue: (value: unknown) => unknown = NO_OP
  #watchError: (error: unknown) => unknown = NO_OP
  #inFlight = 0
  // Whether storage answered the last status read synchronously (in-process storage).
  #syncRead = false

  constructor(name: string, config: CircuitConfig, storage: Storage, lookup: DependencyLookup | undefined) {
    this.name = name
    this.#config = config
    this.hooks = new HookRunner(name, config.on)
    this.io = new StorageIO(name, config.storageTimeout, this.hooks, storage)
    const timing = { name, resetAfter: config.resetAfter, jitter: config.jitter, backoff: config.resetBackoff }
    this.cache = new StatusCache(this.io, config.stateCacheTtl, timing, config.onStorageFailure === 'open')
    this.transitions = new Transitions(this.cache, this.hooks)
    this.answers = new Answers(name, config.fallback, this.hooks, () => this.cache.phase.state)
    this.outcomes = new OutcomeRecorder(this.cache, this.transitions, this.pending, config)
    this.#permits = new ProbePermits(this.io, this.pending, config.halfOpenCalls, config.timeout ?? config.resetAfter)
    this.#dependencies = config.dependsOn && lookup && new Dependencies(name, config.dependsOn, lookup)
    this.#mayHandOver = config.fallback === undefined && !this.hooks.hasBeforeTransition
    this.#unbatched = config.batch === undefined
    this.#hedged = config.hedge !== undefined
    this.#maxConcurrent = config.maxConcurrent
    this.#timeout = config.timeout
  }

  /** The phase a call would be admitted under now (for circuits that depend on this one). */
  readPhase(): MaybePromise<Phase> {
    return this.cache.read()
  }

  /**
   * Runs `fn` under the circuit; `ctx` is the tracing context when somebody traces calls, `signal`
   * the caller's cancellation.
   */
  run<R>(fn: Protected<R>, ctx: CallContext | undefined, signal?: AbortSignal): Promise<R | T> {
    if (signal === undefined && !this.#hedged) return this.#start(fn, ctx, true)
    // A caller's signal or hedging: one job runs the attempts, and is never handed over.
    if (signal?.aborted) return Promise.reject(signal.reason)
    const hedge = this.#config.hedge
    const fns = hedge === undefined ? [fn] : Array.from({ length: hedge.attempts }, () => fn)
    return this.#start(attemptsJob(fns, hedge?.delay ?? 0, signal), ctx, false)
  }

  /** Races `fns` as one call (`callAny`): staggered by `delay` ms, first success wins. */
  runAny<R>(fns: readonly Protected<R>[], delay: number, ctx: CallContext | undefined, signal: AbortSignal | undefined): Promise<R | T> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    return this.#start(attemptsJob(fns, delay, signal), ctx, false)
  }

  /** `plain`: `fn` is the caller's own function, whose promise may be handed to the caller. */
  #start<R>(fn: Protected<R>, ctx: CallContext | undefined, plain: boolean): Promise<R | T> {
    const max = this.#maxConcurrent
    if (max !== undefined && this.#inFlight >= max) return this.answers.bulkhead(max, ctx)
    if (this.#dependencies !== undefined) return this.#checkDependencies(fn, ctx, plain)
    return this.#read(fn, ctx, plain)
  }

  #read<R>(fn: Protected<R>, ctx: CallContext | undefined, plain: boolean): Promise<R | T> {
    // Reserved before the status read so concurrent admissions cannot overshoot the bulkhead.
    this.#inFlight++
    const phase = this.cache.read()
    if (!isThenable(phase)) {
      this.#syncRead = true
      return this.#admit(phase, fn, ctx, true, plain)
    }
    this.#syncRead = false
    return phase.then(
      (p) => this.#admit(p, fn, ctx, true, plain),
      (error: unknown) => {
        this.#inFlight--
        if (ctx) ctx.outcome = 'rejected'
        throw error
      },
    )
  }

  /** Turns the call away while a circuit it depends on is open; else reads its own status. */
  #checkDependencies<R>(fn: Protected<R>, ctx: CallContext | undefined, plain: boolean): Promise<R | T> {
    let blocking: MaybePromise<string | undefined>
    try {
      blocking = this.#dependencies!.blocking(this.#config.clock())
    } catch (error) {
      return Promise.reject(error)
    }
    const go = (dependency: string | undefined): Promise<R | T> =>
      dependency === undefined ? this.#read(fn, ctx, plain) : this.answers.dependency(dependency, ctx)
    return isThenable(blocking) ? blocking.then(go) : go(blocking)
  }

  /** Admits, probes or rejects a call; `mayMove` lets an open circuit whose delay passed go half_open. */
  #admit<R>(phase: Phase, fn: Protected<R>, ctx: CallContext | undefined, mayMove: boolean, plain: boolean): Promise<R | T> {
    if (ctx) ctx.state = phase.state
    // The common case first; only an open circuit needs the time: a closed call reads no clock.
    if (phase.state === 'closed') return this.#execute(fn, phase, undefined, ctx, plain)
    switch (admit(phase, phase.state === 'open' ? this.#config.clock() : 0)) {
      case 'run':
        return this.#execute(fn, phase, undefined, ctx, plain)
      case 'probe':
        return this.#probe(phase as HalfOpenPhase, fn, ctx)
      case 'reject':
        return this.#rejectOpen(phase as OpenPhase, ctx)
      case 'half_open': {
        if (!mayMove) return this.#rejectOpen(phase as OpenPhase, ctx)
        const next = this.transitions.to(phase, 'half_open', this.#config.clock())
        return isThenable(next) ? next.then((p) => this.#admit(p, fn, ctx, false, plain)) : this.#admit(next, fn, ctx, false, plain)
      }
    }
  }

  #probe<R>(phase: HalfOpenPhase, fn: Protected<R>, ctx: CallContext | undefined): Promise<R | T> {
    const permit = this.#permits.acquire(phase)
    const go = (p: Permit | null): Promise<R | T> => {
      if (p !== null) return this.#execute(fn, phase, p, ctx, false)
      this.#inFlight--
      return this.answers.full(phase, ctx)
    }
    return isThenable(permit) ? permit.then(go) : go(permit)
  }

  #execute<R>(fn: Protected<R>, phase: Phase, permit: Permit, ctx: CallContext | undefined, plain: boolean): Promise<R | T> {
    const timeout = this.#timeout
    let result: Promise<R>
    if (timeout !== undefined) {
      result = runWithTimeout(fn, timeout, this.name)
    } else {
      try {
        result = Promise.resolve(fn(NEVER_ABORTED))
      } catch (error) {
        result = Promise.reject(error)
      }
    }
    // The common case — closed, untraced, untimed — settles through handlers made once per phase.
    const cache = this.cache
    if (permit === undefined && ctx === undefined && !cache.timesCalls) {
      if (!plain || !this.#mayHandOver || !this.#syncRead || cache.writesSync !== true) {
        const chained = this.#chained?.phase === phase ? this.#chained : this.#chain(phase)
        return result.then(chained.value, chained.error) as Promise<R | T>
      }
      // With nothing to serve instead and a storage that reads and writes synchronously, the
      // caller can await the function's own promise: the handlers attached first run first, so
      // the outcome is counted (and a trip written) before the caller resumes — one promise hop
      // fewer per call.
      if (this.#watchPhase !== phase) this.#watch(phase)
      result.then(this.#watchValue, this.#watchError)
      return result
    }
    // Reading the clock is the largest cost of the closed path, so a call is timed only for a
    // storage that keeps durations (one with an event log) or a probe.
    const started = cache.timesCalls || permit !== undefined ? this.#config.clock() : Number.NaN
    return result.then(
      (value) => {
        this.#inFlight--
        if (permit === undefined) this.outcomes.success(phase, started)
        else {
          this.#permits.release(permit)
          this.outcomes.probeSucceeded(phase, started)
        }
        if (ctx) ctx.outcome = 'success'
        return value
      },
      (error: unknown) => this.#failed<R>(error, phase, permit, started, ctx),
    )
  }

  #chain(phase: Phase): SettleHandlers {
    return (this.#chained = {
      phase,
      value: (value) => {
        this.#inFlight--
        this.outcomes.success(phase, Number.NaN)
        return value
      },
      error: (error) => this.#failed(error, phase, undefined, Number.NaN, undefined),
    })
  }

  #watch(phase: Phase): void {
    this.#watchPhase = phase
    this.#watchValue = () => {
      this.#inFlight--
      // The hot path touches only this call path, the cache and the handle: the outcome of a
      // call handed over is counted here, not through the outcome recorder.
      const cache = this.cache
      if (phase !== cache.phase) return // admitted in an earlier phase: counts for nothing
      if (!this.#unbatched) return this.outcomes.success(phase, Number.NaN)
      let written: MaybePromise<void>
      try {
        written = cache.handle.recordSuccess(0)
      } catch (error) {
        this.io.failed('recordSuccess', error)
        return
      }
      if (isThenable(written)) this.outcomes.pendingWrite(written, 'recordSuccess')
    }
    this.#watchError = (error) => {
      this.#inFlight--
      const timedOut = isCircuitTimeoutError(error)
      if (!timedOut && !this.outcomes.counts(error)) return
      if (timedOut) this.timeouts++
      this.lastError = error
      this.pending.track(this.outcomes.failure(phase, false, Number.NaN))
    }
  }

  #failed<R>(error: unknown, phase: Phase, permit: Permit, started: number, ctx: CallContext | undefined): R | T | Promise<R | T> {
    this.#inFlight--
    this.#permits.release(permit)
    // Cancelled by its caller: rejects with the signal's reason and counts as nothing.
    if (error instanceof Cancelled) {
      if (ctx) ctx.outcome = 'failure'
      throw error.reason
    }
    const timedOut = isCircuitTimeoutError(error)
    if (!timedOut && !this.outcomes.counts(error)) {
      if (ctx) ctx.outcome = 'failure'
      throw error
    }
    if (timedOut) this.timeouts++
    this.lastError = error
    const counted = this.outcomes.failure(phase, permit !== undefined, started)
    const outcome: CallOutcome = timedOut ? 'timeout' : 'failure'
    // Thrown rather than returned as a rejected promise: one promise hop fewer per failure.
    return isThenable(counted) ? counted.then(() => this.answers.serve(error, outcome, ctx)) : this.answers.serve(error, outcome, ctx)
  }

  #rejectOpen<R>(phase: OpenPhase, ctx: CallContext | undefined): Promise<R | T> {
    this.#inFlight--
    return this.answers.open(phase, ctx)
  }
}
