import type { Storage } from '@breaker/core'
import type { ConformanceApi } from './api.js'
import { keepsState, skipReason } from './check.js'
import type { ConformanceCheck } from './check.js'
import { capabilityChecks } from './checks/capabilities.js'
import { casChecks } from './checks/cas.js'
import { clearChecks } from './checks/clear.js'
import { concurrencyChecks } from './checks/concurrency.js'
import { counterChecks } from './checks/counters.js'
import { countChecks } from './checks/counts.js'
import { declarationChecks } from './checks/declarations.js'
import { eventLogChecks } from './checks/event-log.js'
import { forgetfulChecks } from './checks/forgetful.js'
import { isolationChecks } from './checks/isolation.js'
import { leaseChecks } from './checks/leases.js'
import { limitChecks } from './checks/limits.js'
import { recordChecks } from './checks/record.js'
import { retainChecks } from './checks/retain.js'
import { statusChecks } from './checks/status.js'
import { subscribeChecks } from './checks/subscribe.js'
import { CLOCK_START, createEnv } from './environment.js'
import { resolveOptions } from './options.js'
import type { ConformanceOptions, ResolvedOptions, StorageFactory } from './options.js'

/** Every check of the suite, in the order they are registered. */
export const conformanceChecks: readonly ConformanceCheck[] = [
  ...capabilityChecks,
  ...declarationChecks,
  ...statusChecks,
  ...casChecks,
  ...counterChecks,
  ...countChecks,
  ...recordChecks,
  ...limitChecks,
  ...isolationChecks,
  ...clearChecks,
  ...concurrencyChecks,
  ...leaseChecks,
  ...subscribeChecks,
  ...retainChecks,
  ...eventLogChecks,
  ...forgetfulChecks,
]

/**
 * Registers the conformance tests for one storage with the caller's runner:
 *
 * ```ts
 * import { describe, it, expect } from 'vitest'
 * import { storageConformance } from '@breaker/storage-test-suite'
 * storageConformance({ describe, it, expect }, ({ clock }) => new XStorage({ clock }), { name: 'x' })
 * ```
 *
 * Every test gets a fresh storage from `factory` and a manual clock (epoch ms) that only the
 * tests move. The factory is also called once while the tests are registered, to read
 * `capabilities` and which optional methods exist, so tests the storage cannot run are
 * registered as skipped with the reason in their name; that first store is torn down at once.
 * Start any service the factory needs before calling this (e.g. top-level `await`), not in `beforeAll`.
 * @throws ConfigurationError when an option is out of range.
 */
export function storageConformance<S extends Storage>(
  api: ConformanceApi,
  factory: StorageFactory<S>,
  options?: ConformanceOptions<S>,
): void {
  const resolved = resolveOptions(options)
  const anyFactory = factory as StorageFactory
  const anyOptions = resolved as unknown as ResolvedOptions

  api.describe(`storage conformance: ${resolved.name ?? 'storage'}`, () => {
    let probe: S | Promise<S>
    try {
      probe = factory({ clock: () => CLOCK_START })
    } catch (error) {
      return registerFactoryFailure(api, error)
    }
    // Stay synchronous for a synchronous factory; runners that accept async describe bodies
    // (vitest does) handle the rest.
    if (isThenable(probe)) return probe.then((storage) => register(storage), (error) => registerFactoryFailure(api, error))
    return register(probe)
  })

  function register(probe: S): void | Promise<void> {
    const persistent = keepsState(probe, anyOptions)
    const plan = conformanceChecks
      .filter((check) => check.forgetfulOnly !== true || !persistent)
      .map((check) => ({ check, reason: skipReason(check, probe, anyOptions) }))
    const groups = [...new Set(plan.map(({ check }) => check.group))]
    for (const group of groups) {
      api.describe(group, () => {
        for (const { check, reason } of plan) {
          if (check.group !== group) continue
          if (reason !== null) {
            api.it.skip(`${check.title} — skipped: ${reason}`, async () => {})
          } else {
            api.it(check.title, async () => {
              const { env, dispose } = await createEnv(anyFactory, anyOptions, api.expect)
              try {
                await check.run(env)
              } finally {
                await dispose()
              }
            })
          }
        }
      })
    }
    return resolved.teardown(probe)
  }
}

// Local rather than core's, so registering tests needs nothing from core at run time but its errors.
function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function registerFactoryFailure(api: ConformanceApi, error: unknown): void {
  // A visible failing test instead of a crash while collecting, so the cause is reported.
  api.it('the factory builds a storage', async () => {
    throw error
  })
}
