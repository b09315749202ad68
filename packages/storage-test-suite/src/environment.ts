import type { CircuitState, StatusRecord, Storage } from '@breaker/core'
import type { ConformanceExpect } from './api.js'
import type { ResolvedOptions, StorageFactory } from './options.js'

/** Where every test's manual clock starts: 2026-01-01T00:00:00Z (epoch ms), a whole second. */
export const CLOCK_START = Date.UTC(2026, 0, 1)

/** How long `waitFor` polls before giving up (ms of real time); deliveries may be async. */
export const DELIVERY_TIMEOUT_MS = 2_000

/** Everything one check needs: a fresh storage, its manual clock and helpers. */
export interface CheckEnv {
  /** The storage under test, fresh for this check. */
  readonly storage: Storage
  /** The caller's `expect`. */
  readonly expect: ConformanceExpect
  /** Options with defaults applied. */
  readonly options: ResolvedOptions
  /** The manual clock's reading (epoch ms). */
  now(): number
  /** Moves the manual clock forward (or backward, when negative) by `ms`. */
  advance(ms: number): void
  /** A circuit name unique to this run, so tests never see each other's data on a shared backend. */
  circuit(label?: string): string
  /** The ordinary window the checks count over (ms): 60 s, or `maxWindowMs` when shorter. */
  readonly windowMs: number
  /** The longest window the checks count over (ms): `maxWindowMs`, or one hour when unbounded. */
  readonly longWindowMs: number
  /** Resolves once `predicate` holds; rejects after ~2 s of real time naming `what` was awaited. */
  waitFor(predicate: () => boolean, what: string): Promise<void>
  /** A status record stamped with the manual clock. */
  status(state: CircuitState, epoch: number, extra?: Partial<StatusRecord>): StatusRecord
}

let sequence = 0

/** A name no other test (nor another process running the suite) will pick. */
export function uniqueCircuit(label = 'circuit'): string {
  sequence += 1
  return `conformance-${Math.random().toString(36).slice(2, 10)}-${sequence}-${label}`
}

/** Polls with real timers; bounded so a storage that never delivers fails instead of hanging. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A live store plus its environment; `dispose` runs the teardown. */
export interface CreatedEnv {
  readonly env: CheckEnv
  dispose(): Promise<void>
}

/** Builds a fresh storage from the factory with a fresh manual clock. */
export async function createEnv(
  factory: StorageFactory,
  options: ResolvedOptions,
  expect: ConformanceExpect,
): Promise<CreatedEnv> {
  let now = CLOCK_START
  const clock = (): number => now
  const storage = await factory({ clock })
  const windowMs = Math.min(60_000, options.maxWindowMs)
  const longWindowMs = Number.isFinite(options.maxWindowMs) ? options.maxWindowMs : 3_600_000
  const env: CheckEnv = {
    storage,
    expect,
    options,
    now: clock,
    advance(ms) {
      now += ms
    },
    circuit: uniqueCircuit,
    windowMs,
    longWindowMs,
    waitFor,
    status(state, epoch, extra) {
      return {
        status: state,
        openedAt: state === 'closed' ? null : now,
        epoch,
        updatedAt: now,
        ...extra,
      }
    },
  }
  return {
    env,
    async dispose() {
      await options.teardown(storage)
    },
  }
}
