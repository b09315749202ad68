#!/usr/bin/env node
import { USAGE, UsageError, readConfig } from './config.js'
import { startDemo } from './demo.js'

/** `pnpm demo`: reads flags and env, starts the demo, prints what is wired and where it listens. */
let config
try {
  config = readConfig()
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  console.error(`[demo] ${error.message}\n\n${USAGE}`)
  process.exit(2)
}
if (config.help) {
  console.log(USAGE)
  process.exit(0)
}

let demo
try {
  demo = await startDemo(config)
} catch (error) {
  // Known failures (a taken port, a worker that could not start) are told in one line.
  console.error(`[demo] could not start: ${error.code || error.startup ? error.message : (error.stack ?? error)}`)
  process.exit(1)
}

const { info } = demo
const lines = [
  '',
  '@breaker demo',
  `  workers    ${demo.workers === 1 ? '1 (single process; --workers N for a node cluster)' : `${demo.workers} node cluster workers behind one port (round-robin)`}`,
  ...info.wired.map((line) => `  ${line}`),
  ...info.skipped.map(({ what, reason }) => `  (skipped)  ${what}: ${reason}`),
  ...(config.redisUrl ? [] : ['  (not set)  REDIS_URL: no Redis, Keyv circuits; the chain primary is in-process memory']),
  ...(config.mongoUrl ? [] : ['  (not set)  MONGO_URL: no MongoDB circuit']),
  `  telemetry  in-memory span exporter → dashboard${info.otlp ? `; OTLP traces + metrics → ${config.otlpEndpoint}` : ' (OTEL_EXPORTER_OTLP_ENDPOINT not set)'}`,
  `  traffic    ${config.traffic ? `${config.rate} calls/s per circuit per worker` : 'off (turn it on from the dashboard)'}`,
  '',
  `  Dashboard  ${demo.url}`,
  `  API        ${demo.url}api/circuits   ${demo.url}api/events (SSE)`,
  '',
  `ready: ${demo.url}`,
]
console.log(lines.join('\n'))

let stopping = false
const stop = async (reason, code = 0) => {
  if (stopping) return
  stopping = true
  console.log(`\n[demo] ${reason}: stopping`)
  const force = setTimeout(() => process.exit(1), 10_000)
  force.unref()
  await demo.close().catch((error) => console.error(`[demo] while stopping: ${error.message}`))
  process.exit(code)
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
// A bug must not leave workers, a SysV segment or a temp dir behind: stop cleanly, then fail.
process.on('uncaughtException', (error) => {
  console.error(`[demo] crashed: ${error.stack ?? error}`)
  void stop('crash', 1)
})
