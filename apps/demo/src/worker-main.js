import cluster from 'node:cluster'
import { withDeadline } from './hub.js'
import { Rpc, answer } from './ipc.js'
import { DemoNode } from './node.js'
import { createApp, listen } from './server.js'

/**
 * A cluster worker: runs its own circuits, upstream and traffic, and serves HTTP on the shared
 * port. Views and controls go through the primary's hub, so whichever worker the round-robin
 * picks answers for all of them.
 */
/** Longest a request to the primary's hub may take (ms); its own fan-out deadlines are shorter. */
const PRIMARY_DEADLINE_MS = 10_000
const options = JSON.parse(process.env.DEMO_NODE_OPTIONS ?? '{}')
const id = cluster.worker?.id ?? 1
const node = new DemoNode({ worker: id, options })
const send = (message) => {
  if (process.connected) process.send(message, undefined, {}, () => {})
}
const hub = new Rpc((message, callback) => {
  if (!process.connected) throw new Error('primary is gone')
  process.send(message, undefined, {}, callback)
})
// A send racing the primary's exit reports here; 'disconnect' then stops this worker.
process.on('error', () => {})
const listeners = new Set()
let server

process.on('message', (/** @type {any} */ message) => {
  switch (message?.t) {
    case 'node':
      answer(send, message, (op, args) => node.handle(op, args))
      break
    case 'hub-res':
      hub.settle(message)
      break
    case 'push':
      for (const listener of listeners) listener(message.type, message.data)
      break
    case 'shutdown':
      shutdown(0)
      break
  }
})
// The terminal's Ctrl-C reaches every process of the group: the primary coordinates the stop.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => shutdown(0))
process.on('disconnect', () => shutdown(0))

let closing = false
async function shutdown(code) {
  if (closing) return
  closing = true
  hub.failAll('worker is shutting down')
  server?.closeAllConnections()
  server?.close()
  await node.close().catch(() => {})
  process.exit(code)
}

try {
  const info = await node.start()
  node.onEvent((event) => send({ t: 'event', event }))
  // The primary answers within its own per-worker deadlines; this one only guards against a
  // primary that stopped answering at all, so an HTTP caller gets a 504 instead of a hang.
  const ask = (op, args) => withDeadline(hub.request('hub', op, args), PRIMARY_DEADLINE_MS)
  const api = {
    overview: () => ask('overview'),
    circuits: () => ask('circuits'),
    control: (op, args, text) => ask('control', { op, args, text }),
    exportSnapshot: () => ask('export'),
    importSnapshot: (body) => ask('import', { body }),
    callOnce: (circuit) => node.handle('call', { circuit }),
    local: (op, args) => node.handle(op, args),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  server = await listen(createApp({ api, worker: id }), options)
  send({ t: 'ready', port: server.address()?.port ?? options.port, info })
} catch (error) {
  console.error(`[demo] worker ${id} could not start: ${error.code ? error.message : (error.stack ?? error)}`)
  await node.close().catch(() => {})
  process.exit(1)
}
