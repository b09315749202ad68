import type { Storage } from './storage.js'
import type { StatusRecord } from './types.js'

/** Receives a pushed record, or `undefined` for a resync notice: drop the cached copy and re-read. */
type Receiver = (record: StatusRecord | undefined) => void

interface Route {
  readonly byCircuit: Map<string, Set<Receiver>>
  readonly unsubscribe: () => void
}

// One subscription per storage, dispatching by circuit name, so a storage pushing a change
// costs one map lookup however many circuits share it.
const routes = new WeakMap<Storage, Route>()

function deliver(receivers: Set<Receiver> | undefined, record: StatusRecord | undefined): void {
  if (receivers) for (const r of receivers) r(record)
}

/**
 * Routes status changes pushed by `storage` for `circuit` to `receive`, and resync notices (for
 * that circuit or for all) as `undefined`; answers the function that stops it. Does nothing (and
 * answers a no-op) when the storage cannot push.
 */
export function listen(storage: Storage, circuit: string, receive: Receiver): () => void {
  if (!storage.capabilities.subscribe || !storage.subscribe) return () => {}
  let route = routes.get(storage)
  if (!route) {
    const byCircuit = new Map<string, Set<Receiver>>()
    const unsubscribe = storage.subscribe((notice) => {
      if (notice.resync !== true) deliver(byCircuit.get(notice.circuit), notice.record)
      else if (notice.circuit !== undefined) deliver(byCircuit.get(notice.circuit), undefined)
      else for (const receivers of byCircuit.values()) deliver(receivers, undefined)
    })
    route = { byCircuit, unsubscribe }
    routes.set(storage, route)
  }
  const receivers = route.byCircuit.get(circuit) ?? new Set<Receiver>()
  route.byCircuit.set(circuit, receivers)
  receivers.add(receive)
  const current = route
  return () => {
    receivers.delete(receive)
    if (receivers.size === 0) current.byCircuit.delete(circuit)
    if (current.byCircuit.size === 0) {
      current.unsubscribe()
      routes.delete(storage)
    }
  }
}
