import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoProcess, until } from './helpers/demo-process.js'
import type { RunningDemo } from './helpers/demo-process.js'

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let collector: Server
  let demo: RunningDemo
  const received: Array<{ path: string; bytes: number }> = []

  beforeAll(async () => {
    // A stand-in collector: accepts every OTLP/HTTP export and remembers where it went.
    collector = createServer((req, res) => {
      let bytes = 0
      req.on('data', (d: Buffer) => (bytes += d.length))
      req.on('end', () => {
        received.push({ path: req.url ?? '', bytes })
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
    const { port } = collector.address() as { port: number }
    demo = await startDemoProcess(['--rate', '20'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    })
  })
  afterAll(async () => {
    await demo?.stop()
    await new Promise((resolve) => collector?.close(resolve))
  })

  it('sends traces and metrics to the collector as well as to the dashboard', async () => {
    expect(demo.output()).toMatch(/OTLP traces \+ metrics → http:\/\/127\.0\.0\.1:\d+/)
    await until('a trace export and a metric export', async () => {
      const paths = new Set(received.filter((r) => r.bytes > 0).map((r) => r.path))
      return paths.has('/v1/traces') && paths.has('/v1/metrics')
    }, 15_000, 100)
    const overview = (await (await fetch(new URL('/api/overview', demo.url))).json()) as { otlp: boolean }
    expect(overview.otlp).toBe(true)
  }, 30_000)
})
