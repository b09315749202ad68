// What @breaker/otel costs per protected call, on in-process storage (MemoryStorage):
//   no subscriber          core's untraced path (the channel has nobody listening)
//   enabled then disabled  instrumentBreakers() then disable(): must match "no subscriber"
//   metrics only           traceCalls: false (breaker.calls counter, no spans)
//   enabled                spans + metrics into the real SDK (BatchSpanProcessor, dropping exporter)
// The AsyncLocalStorage context manager is registered throughout, as the Node SDK does.
// Plain ESM over the built dist: `pnpm --filter @breaker/otel build && node bench/otel.bench.js`.
import { createRequire } from 'node:module'
import { bench, do_not_optimize, run, summary } from 'mitata'
import { Circuit } from '../packages/core/dist/index.js'
import { MemoryStorage } from '../packages/storage-memory/dist/index.js'
import { instrumentBreakers } from '../packages/otel/dist/index.js'

// The SDK is a dev dependency of packages/otel; resolve it from there.
const require = createRequire(new URL('../packages/otel/package.json', import.meta.url))
const { context } = require('@opentelemetry/api')
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks')
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base')
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics')

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())

const dropping = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} }
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(dropping, { maxQueueSize: 4096, scheduledDelayMillis: 50 })],
})
class QuietReader extends MetricReader {
  async onShutdown() {}
  async onForceFlush() {}
}
const meterProvider = new MeterProvider({ readers: [new QuietReader()] })
const providers = { tracerProvider, meterProvider, registry: undefined }

const circuit = new Circuit('bench', { storage: new MemoryStorage(), registry: false, threshold: { failures: 1e9, within: 60_000 } })
const ok = async () => 1

summary(() => {
  bench('no subscriber', async () => do_not_optimize(await circuit.call(ok)))
  bench('enabled then disabled', function* () {
    instrumentBreakers(providers).disable()
    yield async () => do_not_optimize(await circuit.call(ok))
  })
  bench('metrics only (traceCalls: false)', function* () {
    const handle = instrumentBreakers({ ...providers, traceCalls: false })
    yield async () => do_not_optimize(await circuit.call(ok))
    handle.disable()
  })
  bench('enabled (spans + metrics)', function* () {
    const handle = instrumentBreakers(providers)
    yield async () => do_not_optimize(await circuit.call(ok))
    handle.disable()
  })
})

await run({ format: 'mitata', colors: false })

// The same four modes again, interleaved round by round so that load from other processes on a
// shared machine hits them alike; the median of 7 rounds of 50 000 sequential calls each.
const modes = {
  'no subscriber': () => undefined,
  'enabled then disabled': () => void instrumentBreakers(providers).disable(),
  'metrics only (traceCalls: false)': () => instrumentBreakers({ ...providers, traceCalls: false }),
  'enabled (spans + metrics)': () => instrumentBreakers(providers),
}
const rounds = Object.fromEntries(Object.keys(modes).map((name) => [name, []]))
for (let round = 0; round < 7; round++) {
  for (const [name, setup] of Object.entries(modes)) {
    const handle = setup()
    const started = process.hrtime.bigint()
    for (let i = 0; i < 50_000; i++) await circuit.call(ok)
    rounds[name].push(Number(process.hrtime.bigint() - started) / 50_000)
    handle?.disable()
  }
}
console.log('\ninterleaved rounds (median of 7 × 50 000 calls):')
for (const [name, ns] of Object.entries(rounds)) {
  const sorted = ns.sort((a, b) => a - b)
  console.log(`  ${name.padEnd(34)} ${sorted[3].toFixed(0).padStart(6)} ns/call  (best ${sorted[0].toFixed(0)})`)
}
await tracerProvider.shutdown()
await meterProvider.shutdown()
