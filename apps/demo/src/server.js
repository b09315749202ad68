import { readFileSync } from 'node:fs'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { streamSSE } from 'hono/streaming'
import { createAdaptorServer } from '@hono/node-server'
import { BadRequest, parseJson, readCircuitAction, readHedgeRun, readPaymentsAction, readPrimaryMode, readSnapshotBody, readTail, readTraffic, readUpstream } from './validate.js'

const PUBLIC = new URL('../public/', import.meta.url)
/** The dashboard files, read once: plain HTML/CSS/JS, no build step. */
const ASSETS = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/dom.js': ['dom.js', 'text/javascript; charset=utf-8'],
  '/feed.js': ['feed.js', 'text/javascript; charset=utf-8'],
  '/matrix.js': ['matrix.js', 'text/javascript; charset=utf-8'],
  '/panels.js': ['panels.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
}
/** SSE comment line so proxies and browsers keep an idle stream open (ms). */
const KEEPALIVE_MS = 15_000

/**
 * The HTTP face of the demo: the dashboard, the JSON API and the SSE stream. `api` is the hub
 * (single process) or the worker's IPC client of the primary's hub (cluster); `worker` is the
 * id of the process answering, so a caller can see the cluster's round-robin at work.
 */
export function createApp({ api, worker }) {
  const app = new Hono()
  /** @type {Record<string, [string, string]>} */
  const assets = Object.fromEntries(Object.entries(ASSETS).map(([path, [file, type]]) => [path, [readFileSync(new URL(file, PUBLIC), 'utf8'), type]]))
  for (const [path, [body, type]] of Object.entries(assets)) {
    app.get(path, (c) => c.body(body, 200, { 'content-type': type, 'cache-control': 'no-cache' }))
  }

  app.use('/api/*', bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: 'body is larger than 1 MiB' }, 413) }))
  app.use('/api/*', async (c, next) => {
    await next()
    c.header('x-demo-worker', String(worker))
  })

  const body = async (c, emptyOk = false) => parseJson(await c.req.text(), emptyOk)

  app.get('/api/health', (c) => c.json({ ok: true, worker, pid: process.pid }))
  app.get('/api/circuits', async (c) => c.json(await api.circuits()))
  app.get('/api/overview', async (c) => c.json(await api.overview()))

  app.post('/api/upstream', async (c) => {
    const settings = readUpstream(await body(c))
    const text = describe('upstream', settings)
    return c.json(await api.control('upstream', settings, text))
  })
  app.post('/api/traffic', async (c) => {
    const settings = readTraffic(await body(c))
    return c.json(await api.control('traffic', settings, describe('traffic', settings)))
  })
  app.post('/api/storage/primary', async (c) => {
    const { mode } = readPrimaryMode(await body(c))
    return c.json(await api.control('primary', { mode }, `primary storage set to '${mode}'`))
  })
  app.post('/api/circuits/:name/:action', async (c) => {
    const args = readCircuitAction(c.req.param('name'), c.req.param('action'))
    return c.json(await api.control('circuit', args, `${c.req.param('action')} ${args.circuit} in every worker`))
  })
  app.post('/api/call/:name', async (c) => {
    const { circuit } = readCircuitAction(c.req.param('name'), 'reset')
    return c.json(await api.callOnce(circuit))
  })

  // The hedging panel: the tail goes to every worker; a run happens on the worker that got it.
  app.post('/api/hedging', async (c) => {
    const settings = readTail(await body(c))
    return c.json(await api.control('hedging', settings, describe('hedging upstream', settings)))
  })
  app.post('/api/hedging/run', async (c) => c.json(await api.local('hedgeRun', readHedgeRun(await body(c)))))

  // The dependency panel: payments is acted on by one worker (its storage is shared); checkout
  // is tried on every worker, to show each one turning calls away.
  app.post('/api/dependency/payments/:action', async (c) => c.json(await api.local('payments', readPaymentsAction(c.req.param('action')))))
  app.post('/api/dependency/checkout/call', async (c) => c.json(await api.control('checkout', {}, 'checkout called on every worker')))

  app.get('/api/snapshot', async (c) => {
    const snapshot = await api.exportSnapshot()
    const stamp = new Date(snapshot.exportedAt).toISOString().replace(/[:.]/g, '-')
    c.header('content-disposition', `attachment; filename="breaker-snapshot-${stamp}.json"`)
    return c.json(snapshot)
  })
  app.post('/api/snapshot', async (c) => c.json(await api.importSnapshot(readSnapshotBody(await body(c)))))

  app.get('/api/events', (c) =>
    streamSSE(
      c,
      async (stream) => {
        // Subscribe before reading the overview so no event falls between the two.
        const pending = []
        let ready = false
        const send = (type, data) => stream.writeSSE({ event: type, data: JSON.stringify(data) }).catch(() => {})
        const off = api.subscribe((type, data) => (ready ? send(type, data) : pending.push([type, data])))
        stream.onAbort(off)
        try {
          const { events, ...state } = await api.overview()
          await send('state', state)
          await send('events', events)
        } catch (error) {
          await send('problem', { error: error.message })
        }
        ready = true
        for (const [type, data] of pending.splice(0)) await send(type, data)
        while (!stream.aborted && !stream.closed) {
          await stream.sleep(KEEPALIVE_MS)
          await stream.write(': keep-alive\n\n').catch(() => {})
        }
        off()
      },
      async () => {},
    ),
  )

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404))
  app.onError((error, c) => {
    const status = statusOf(error)
    // A 500 is a bug worth a line in the log; a 4xx is the caller's mistake, answered in full.
    if (status >= 500) console.error(`[demo] ${c.req.method} ${c.req.path}: ${error.stack ?? error}`)
    return c.json({ error: error.message }, status)
  })
  return app
}

/** An error's HTTP status: its own, 400 for bad configuration or snapshots, else 500. */
export function statusOf(error) {
  if (error instanceof BadRequest) return 400
  if (Number.isInteger(error?.status) && error.status >= 400 && error.status < 600) return error.status
  if (error?.code === 'ERR_CONFIGURATION') return 400
  return 500
}

function describe(what, settings) {
  const parts = Object.entries(settings).map(([k, v]) => `${k} ${k === 'failureRate' || k === 'slowRate' ? `${Math.round(v * 100)} %` : k.endsWith('Ms') ? `${v} ms` : v}`)
  return `${what}: ${parts.join(', ')}`
}

/** A listen failure that says what to do about it (the usual one: the port is taken). */
function listenError(error, port, host) {
  if (error?.code === 'EADDRINUSE') return Object.assign(new Error(`port ${port} on ${host} is already in use: pass --port N or PORT=N (0 = any free port)`), { code: error.code })
  if (error?.code === 'EACCES') return Object.assign(new Error(`no permission to listen on port ${port}: pick one above 1023`), { code: error.code })
  return error
}

/**
 * Listens on `port` (0 = any free port; in a cluster worker the primary owns the socket and
 * every worker shares it). Answers the node server once it listens.
 */
export function listen(app, { port, host }) {
  const server = createAdaptorServer({ fetch: app.fetch })
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, port, host)))
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}
