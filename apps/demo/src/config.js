import { parseArgs } from 'node:util'

/** Thrown for a bad flag or environment variable; main prints it and exits with status 2. */
export class UsageError extends Error {}

export const USAGE = `Usage: pnpm demo [-- options]   (or: node apps/demo/src/main.js [options])

  --port N        port to listen on (env PORT, default 3000; 0 = any free port)
  --host H        interface to listen on (env HOST, default 127.0.0.1)
  --workers N     worker processes behind the port, node cluster (env DEMO_WORKERS, default 1)
  --rate N        generated calls per second, per circuit, per worker (env DEMO_RATE, default 10)
  --no-traffic    start with the traffic generator off (env DEMO_TRAFFIC=off)
  --help          this text

  REDIS_URL                     adds circuits on RedisStorage and KeyvStorage; the chain's primary becomes Redis
  MONGO_URL                     adds a circuit on MongoStorage
  OTEL_EXPORTER_OTLP_ENDPOINT   also send traces and metrics to that OTLP/HTTP collector`

function integer(name, raw, min, max) {
  const n = Number(raw)
  if (raw === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`)
  return n
}

function positive(name, raw, max) {
  const n = Number(raw)
  if (raw === '' || !Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`${name} must be a number above 0 and at most ${max}, got '${raw}'`)
  return n
}

/**
 * Reads flags first, then environment variables, then defaults.
 * @throws UsageError naming the flag or variable and the value received.
 */
export function readConfig(argv = process.argv.slice(2), env = process.env) {
  let values
  try {
    ;({ values } = parseArgs({
      // `pnpm demo -- --workers 2` hands the `--` on to the script: it separates nothing here.
      args: argv.filter((arg) => arg !== '--'),
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        workers: { type: 'string' },
        rate: { type: 'string' },
        'no-traffic': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }))
  } catch (error) {
    throw new UsageError(error.message)
  }
  if (values.help) return { help: true }
  const pick = (flag, variable) => (values[flag] !== undefined ? [`--${flag}`, values[flag]] : env[variable] !== undefined && env[variable] !== '' ? [variable, env[variable]] : undefined)
  const port = pick('port', 'PORT')
  const workers = pick('workers', 'DEMO_WORKERS')
  const rate = pick('rate', 'DEMO_RATE')
  const trafficEnv = (env.DEMO_TRAFFIC ?? '').toLowerCase()
  if (trafficEnv !== '' && !['on', 'off', '1', '0', 'true', 'false'].includes(trafficEnv)) {
    throw new UsageError(`DEMO_TRAFFIC must be on or off, got '${env.DEMO_TRAFFIC}'`)
  }
  return {
    help: false,
    port: port ? integer(port[0], port[1], 0, 65_535) : 3000,
    host: values.host ?? env.HOST ?? '127.0.0.1',
    workers: workers ? integer(workers[0], workers[1], 1, 32) : 1,
    rate: rate ? positive(rate[0], rate[1], 1000) : 10,
    traffic: !values['no-traffic'] && !['off', '0', 'false'].includes(trafficEnv),
    redisUrl: env.REDIS_URL || undefined,
    mongoUrl: env.MONGO_URL || undefined,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
  }
}
