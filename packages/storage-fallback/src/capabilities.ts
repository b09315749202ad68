import type { StorageCapabilities } from '@breaker/core'
import type { Backend } from './config.js'

const WIDTH = { process: 0, host: 1, cluster: 2 } as const

/** Which optional contract methods the chain offers, next to its declared capabilities. */
export interface ChainFeatures {
  readonly capabilities: StorageCapabilities
  /** Every backend that keeps state has `eventLog`. */
  readonly eventLog: boolean
}

/**
 * What the backends can honour together, since any of them may be the one answering: the
 * narrowest scope, atomic only if all are, and each optional feature only if every backend
 * that keeps state offers it. A final stateless backend (`NullStorage`) is left out: it holds
 * nothing that could be shared, raced or lost, and the chain answers the optional methods for
 * it the way a storage that keeps nothing would (CAS writes "win", every probe gets a permit,
 * the event log is empty, its status writes are pushed to the chain's own subscribers).
 */
export function chainFeatures(backends: readonly Backend[]): ChainFeatures {
  const stateful = backends.filter((backend) => !backend.stateless)
  const all = (test: (backend: Backend) => boolean): boolean => stateful.every(test)
  let scope: StorageCapabilities['scope'] = 'cluster'
  for (const { storage } of stateful) {
    if (WIDTH[storage.capabilities.scope] < WIDTH[scope]) scope = storage.capabilities.scope
  }
  return {
    capabilities: Object.freeze({
      scope,
      atomic: all(({ storage }) => storage.capabilities.atomic),
      cas: all(({ storage }) => storage.capabilities.cas && typeof storage.compareAndSetStatus === 'function'),
      leases: all(({ storage }) => storage.capabilities.leases && typeof storage.acquireProbe === 'function'),
      subscribe: all(({ storage }) => storage.capabilities.subscribe && typeof storage.subscribe === 'function'),
    }),
    eventLog: all(({ storage }) => typeof storage.eventLog === 'function'),
  }
}
