import cluster from 'node:cluster'
import { fileURLToPath } from 'node:url'
import { Hub } from './hub.js'
import { Rpc, answer } from './ipc.js'
import { DemoNode } from './node.js'
import { createApp, listen } from './server.js'
import { makeSysvPath } from './sysv-path.js'

/** How long workers get to start (connect to Redis/Mongo, load the addon) before startup fails (ms). */
const START_TIMEOUT_MS = 30_000

/**
 * Starts the demo: in this process when `workers` is 1, else as the primary of a node cluster
 * whose workers share one port. Answers `{ url, port, workers, info, close() }` once it serves.
 */
export function startDemo(config) {
  return config.workers > 1 ? startCluster(config) : startSingle(config)
}

async function startSingle(config) {
  const sysv = makeSysvPath()
  await sysv.removeSegment()
  const node = new DemoNode({ worker: 1, options: { ...config, sysvPath: sysv.path } })
  let info
  try {
    info = await node.start()
  } catch (error) {
    await node.close().catch(() => {})
    await sysv.remove()
    throw error
  }
  const hub = new Hub({ mode: 'single', workerCount: 1, otlp: info.otlp })
  hub.addNode(1, { call: (op, args) => node.handle(op, args) }, info)
  node.onEvent((event) => hub.ingest(event))
  hub.start()
  const api = {
    overview: () => hub.overview(),
    circuits: () => hub.circuits(),
    control: (op, args, text) => hub.control(op, args, text),
    exportSnapshot: () => hub.exportSnapshot(),
    importSnapshot: (body) => hub.importSnapshot(body),
    callOnce: (circuit) => node.handle('call', { circuit }),
    local: (op, args) => node.handle(op, args),
    subscribe: (listener) => hub.subscribe(listener),
  }
  let server
  try {
    server = await listen(createApp({ api, worker: 1 }), config)
  } catch (error) {
    hub.stop()
    await node.close()
    await sysv.remove()
    throw error
  }
  const port = server.address().port
  return {
    url: urlOf(config.host, port),
    port,
    workers: 1,
    info,
    async close() {
      hub.stop()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve(undefined)))
      await node.close()
      await sysv.remove()
    },
  }
}

async function startCluster(config) {
  const sysv = makeSysvPath()
  await sysv.removeSegment()
  const hub = new Hub({ mode: 'cluster', workerCount: config.workers, otlp: Boolean(config.otlpEndpoint) })
  const nodeOptions = JSON.stringify({ ...config, sysvPath: sysv.path })
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)), args: [] })
  const live = new Map()
  let stopping = false
  let started = false
  let port
  let info
  const restarts = []

  // Every overview tick and event goes to every worker, which forwards it to its SSE streams.
  hub.subscribe((type, data) => {
    for (const { worker } of live.values()) {
      if (worker.isConnected()) worker.send({ t: 'push', type, data }, undefined, { keepOpen: false }, () => {})
    }
  })

  const hubOps = {
    overview: () => hub.overview(),
    circuits: () => hub.circuits(),
    control: ({ op, args, text }) => hub.control(op, args, text),
    export: () => hub.exportSnapshot(),
    import: ({ body }) => hub.importSnapshot(body),
  }

  let readyCount = 0
  let startupDone
  const allReady = new Promise((resolve, reject) => (startupDone = { resolve, reject }))

  const spawn = () => {
    const worker = cluster.fork({ DEMO_NODE_OPTIONS: nodeOptions })
    const rpc = new Rpc((message, callback) => worker.send(message, callback))
    live.set(worker.id, { worker, rpc })
    // A send racing the worker's death reports here; the 'exit' handler deals with the worker.
    worker.on('error', () => {})
    worker.on('message', (message) => {
      switch (message?.t) {
        case 'node-res':
          rpc.settle(message)
          break
        case 'event':
          hub.ingest(message.event)
          break
        case 'hub':
          answer((reply) => worker.isConnected() && worker.send(reply, () => {}), message, (op, args) => {
            const fn = hubOps[op]
            if (!fn) throw new Error(`unknown hub operation ${op}`)
            return fn(args ?? {})
          })
          break
        case 'ready': {
          const handle = { call: (op, args) => rpc.request('node', op, args) }
          port ??= message.port
          info ??= message.info
          const join = started ? hub.replay(handle).catch(() => {}) : Promise.resolve()
          join.then(() => hub.addNode(worker.id, handle, message.info))
          if (!started && ++readyCount === config.workers) startupDone.resolve()
          break
        }
      }
    })
    worker.on('exit', (code, signal) => {
      live.get(worker.id)?.rpc.failAll(`worker ${worker.id} exited`)
      live.delete(worker.id)
      hub.removeNode(worker.id)
      if (stopping) return
      if (!started) {
        const error = new Error(`worker ${worker.id} exited during startup (${signal ?? `code ${code}`}); its reason is above`)
        return startupDone.reject(Object.assign(error, { startup: true }))
      }
      // A crashed worker is replaced, but not in a tight loop: at most 5 a minute.
      const now = Date.now()
      while (restarts.length > 0 && now - restarts[0] > 60_000) restarts.shift()
      console.error(`[demo] worker ${worker.id} exited (${signal ?? `code ${code}`})${restarts.length < 5 ? '; starting a new one' : ''}`)
      if (restarts.length < 5) {
        restarts.push(now)
        spawn()
      }
    })
  }

  const stopWorkers = async () => {
    stopping = true
    hub.stop()
    await Promise.all(
      [...live.values()].map(
        ({ worker }) =>
          new Promise((resolve) => {
            if (worker.isDead()) return resolve(undefined)
            const kill = setTimeout(() => worker.process.kill('SIGKILL'), 5_000)
            worker.once('exit', () => {
              clearTimeout(kill)
              resolve(undefined)
            })
            try {
              worker.send({ t: 'shutdown' }, () => {})
            } catch {
              worker.process.kill('SIGTERM')
            }
          }),
      ),
    )
    await sysv.remove()
  }

  for (let i = 0; i < config.workers; i++) spawn()
  let timer
  try {
    await Promise.race([
      allReady,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`workers did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      }),
    ])
  } catch (error) {
    await stopWorkers()
    throw error
  } finally {
    clearTimeout(timer)
  }
  started = true
  hub.start()
  return { url: urlOf(config.host, port), port, workers: config.workers, info, close: stopWorkers }
}

function urlOf(host, port) {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return `http://${shown}:${port}/`
}
