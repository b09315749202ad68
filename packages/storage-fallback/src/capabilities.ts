import type { StorageCapabilities } from '@breaker/core'
import type { Backend } from './config.js'

const WIDTH = { process: 0, host: 1, cluster: 2 } as const

/**
 * What the backends can honour together, since any of them may be the one answering — read from
 * their declarations, never probed: the narrowest scope, atomic only if all are, and each
 * optional feature (`cas`, `leases`, `subscribe`, `eventLog`) only if every backend that keeps
 * state declares it. A backend declaring `stateless` (`NullStorage`) is left out: it holds
 * nothing that could be shared, raced or lost, and the chain answers the optional methods for it
 * the way a storage that keeps nothing would (CAS writes "win", every probe gets a permit, the
 * event log is empty, its status writes are pushed to the chain's own subscribers). A chain of
 * stateless backends only is stateless itself. `maxNameBytes` is the smallest any backend declares.
 */
export function chainCapabilities(backends: readonly Backend[]): StorageCapabilities {
  const stateful = backends.filter((backend) => !backend.stateless)
  const all = (test: (declared: StorageCapabilities) => boolean | undefined): boolean =>
    stateful.every(({ storage }) => test(storage.capabilities) === true)
  let scope: StorageCapabilities['scope'] = stateful.length === 0 ? 'process' : 'cluster'
  for (const { storage } of stateful) {
    if (WIDTH[storage.capabilities.scope] < WIDTH[scope]) scope = storage.capabilities.scope
  }
  const names = backends.flatMap(({ storage }) => (storage.capabilities.maxNameBytes === undefined ? [] : [storage.capabilities.maxNameBytes]))
  const stateless = stateful.length === 0
  return Object.freeze({
    scope,
    atomic: all((c) => c.atomic),
    cas: !stateless && all((c) => c.cas),
    leases: !stateless && all((c) => c.leases),
    subscribe: !stateless && all((c) => c.subscribe),
    ...(!stateless && all((c) => c.eventLog) ? { eventLog: true } : {}),
    ...(stateless ? { stateless: true } : {}),
    ...(names.length === 0 ? {} : { maxNameBytes: Math.min(...names) }),
  })
}
