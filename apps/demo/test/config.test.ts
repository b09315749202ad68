import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { UsageError, readConfig } from '../src/config.js'

describe('readConfig', () => {
  it('defaults to port 3000, one worker, 10 calls/s and traffic on', () => {
    expect(readConfig([], {})).toMatchObject({ port: 3000, host: '127.0.0.1', workers: 1, rate: 10, traffic: true, redisUrl: undefined })
  })

  it('reads PORT, DEMO_WORKERS, DEMO_RATE, DEMO_TRAFFIC and the service URLs from the environment', () => {
    const env = { PORT: '0', DEMO_WORKERS: '3', DEMO_RATE: '2.5', DEMO_TRAFFIC: 'off', REDIS_URL: 'redis://r:6379', MONGO_URL: 'mongodb://m/db', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' }
    expect(readConfig([], env)).toMatchObject({ port: 0, workers: 3, rate: 2.5, traffic: false, redisUrl: 'redis://r:6379', mongoUrl: 'mongodb://m/db', otlpEndpoint: 'http://otel:4318' })
  })

  it('lets flags win over the environment', () => {
    expect(readConfig(['--workers', '2', '--port', '8080', '--no-traffic'], { DEMO_WORKERS: '4', PORT: '1' })).toMatchObject({ workers: 2, port: 8080, traffic: false })
  })

  it.each([
    [['--workers', 'two'], {}, /--workers must be an integer from 1 to 32, got 'two'/],
    [[], { DEMO_WORKERS: '0' }, /DEMO_WORKERS must be an integer from 1 to 32, got '0'/],
    [['--port', '70000'], {}, /--port must be an integer from 0 to 65535/],
    [[], { DEMO_RATE: '-1' }, /DEMO_RATE must be a number above 0/],
    [[], { DEMO_TRAFFIC: 'maybe' }, /DEMO_TRAFFIC must be on or off/],
    [['--colour'], {}, /Unknown option '--colour'/],
  ])('refuses %j %j naming the flag or variable', (argv, env, message) => {
    expect(() => readConfig(argv, env)).toThrow(UsageError)
    expect(() => readConfig(argv, env)).toThrow(message)
  })

  it('makes the command exit with status 2 and the usage for a bad flag', () => {
    const main = fileURLToPath(new URL('../src/main.js', import.meta.url))
    const run = spawnSync(process.execPath, [main, '--workers', 'lots'], { encoding: 'utf8', env: { ...process.env, DEMO_WORKERS: '' } })
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/--workers must be an integer/)
    expect(run.stderr).toMatch(/Usage: pnpm demo/)
  })

  it('exits with status 1 and a one-line reason when the port is taken', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as { port: number }
    const main = fileURLToPath(new URL('../src/main.js', import.meta.url))
    const run = spawnSync(process.execPath, [main, '--port', String(port), '--no-traffic'], { encoding: 'utf8', env: { ...process.env, DEMO_WORKERS: '', REDIS_URL: '', MONGO_URL: '' } })
    taken.close()
    expect(run.status).toBe(1)
    expect(run.stderr.trim()).toBe(`[demo] could not start: port ${port} on 127.0.0.1 is already in use: pass --port N or PORT=N (0 = any free port)`)
  })
})
