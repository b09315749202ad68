import type { Storage } from '@breaker/core'
import type { ConformanceExpect } from './api.js'
import { createEnv } from './environment.js'
import type { CheckEnv } from './environment.js'
import { resolveOptions } from './options.js'
import type { ConformanceOptions, ResolvedOptions, StorageFactory } from './options.js'

/** What a check needs before it can run; unmet needs skip it with a reason. */
export type Requirement =
  | 'persistent'
  | 'injectedTime'
  | 'cas'
  | 'leases'
  | 'subscribe'
  | 'record'
  | 'recordBatch'
  | 'eventLog'
  | 'retain'
  | 'maxNameBytes'

/** One behaviour of the contract, runnable against any storage. */
export interface ConformanceCheck {
  /** Which part of the contract: `'status'`, `'counts'`, `'leases'`, … (the describe block). */
  readonly group: string
  /** States the behaviour; becomes the test name. */
  readonly title: string
  /** What the storage must offer for the check to apply. */
  readonly requires: readonly Requirement[]
  /** Only for storages that forget by design (`persistent: false`); not registered otherwise. */
  readonly forgetfulOnly?: boolean
  /** Runs the check; throws (through `expect`) when the storage misbehaves. */
  run(env: CheckEnv): Promise<void>
}

/**
 * Why `check` cannot run against `storage`, or `null` when it can. Needs are examined in the
 * order they are listed, so the first unmet one names the reason.
 */
export function skipReason(check: ConformanceCheck, storage: Storage, options: ResolvedOptions): string | null {
  for (const need of check.requires) {
    const reason = unmet(need, storage, options)
    if (reason !== null) return reason
  }
  return null
}

function unmet(need: Requirement, storage: Storage, options: ResolvedOptions): string | null {
  switch (need) {
    case 'persistent':
      if (!options.persistent) return 'persistent is false (the storage forgets by design)'
      return storage.capabilities.stateless === true ? 'capabilities.stateless is true (the storage keeps nothing)' : null
    case 'injectedTime':
      return options.time === 'injected' ? null : "time is 'server' (the storage keeps its own clock)"
    case 'cas':
      return storage.capabilities.cas ? null : 'capabilities.cas is false'
    case 'leases':
      return storage.capabilities.leases ? null : 'capabilities.leases is false'
    case 'subscribe':
      return storage.capabilities.subscribe ? null : 'capabilities.subscribe is false'
    case 'record':
      return typeof storage.record === 'function' ? null : 'the storage has no record method'
    case 'recordBatch':
      return typeof storage.recordBatch === 'function' ? null : 'the storage has no recordBatch method'
    case 'eventLog':
      return storage.capabilities.eventLog === true ? null : 'capabilities.eventLog is not declared'
    case 'retain':
      return typeof storage.retain === 'function' ? null : 'the storage has no retain method (it keeps no per-circuit memory to release)'
    case 'maxNameBytes':
      return storage.capabilities.maxNameBytes === undefined ? 'capabilities.maxNameBytes is not declared' : null
  }
}

/** True unless the storage forgets by design: `persistent: false`, or it declares `capabilities.stateless`. */
export function keepsState(storage: Storage, options: ResolvedOptions): boolean {
  return options.persistent && storage.capabilities.stateless !== true
}

/**
 * Runs one check against a fresh storage from `factory`, outside any describe block: for a
 * storage's own tests, or to prove a broken storage fails. Rejects when the check fails, and
 * also when it does not apply to that storage (naming why), so a skip is never mistaken for a pass.
 */
export async function runCheck<S extends Storage>(
  check: ConformanceCheck,
  factory: StorageFactory<S>,
  options: ConformanceOptions<S> | undefined,
  expect: ConformanceExpect,
): Promise<void> {
  const resolved = resolveOptions(options) as ResolvedOptions
  const { env, dispose } = await createEnv(factory, resolved, expect)
  try {
    const reason = skipReason(check, env.storage, resolved)
    if (reason !== null) throw new Error(`check '${check.title}' does not apply: ${reason}`)
    if (check.forgetfulOnly === true && keepsState(env.storage, resolved)) {
      throw new Error(`check '${check.title}' does not apply: persistent is true`)
    }
    await check.run(env)
  } finally {
    await dispose()
  }
}
