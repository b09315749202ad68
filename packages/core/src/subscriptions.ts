import type { Storage } from './storage.js'
import type { StatusRecord } from './types.js'

type Receiver = (record: StatusRecord) => void

// One subscription per storage, dispatching by circuit name, so a storage pushing a change
// costs one map lookup however many circuits share it.
const routes = new WeakMap<Storage, { byCircuit: Map<string, Set<Receiver>>; unsubscribe: () => void }>()

/**
 * Routes status changes pushed by `storage` for `circuit` to `receive`; answers the function
 * that stops it. Does nothing (and answers a no-op) when the storage cannot push.
 */
export function listen(storage: Storage, circuit: string, receive: Receiver): () => void {
  if (!storage.capabilities.subscribe || !storage.subscribe) return () => {}
  let route = routes.get(storage)
  if (!route) {
    const byCircuit = new Map<string, Set<Receiver>>()
    const unsubscribe = storage.subscribe((change) => {
      const receivers = byCircuit.get(change.circuit)
      if (receivers) for (const r of receivers) r(change.record)
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
