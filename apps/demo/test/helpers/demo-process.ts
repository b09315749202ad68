import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

export interface RunningDemo {
  url: string
  child: ChildProcess
  output: () => string
  stop: () => Promise<number | null>
}

/**
 * Starts the demo as a real child process on a free port (PORT=0) and answers once it printed
 * its `ready:` line. The child imports the built packages (dist), like `pnpm demo` does.
 */
export function startDemoProcess(args: string[] = [], env: Record<string, string | undefined> = {}): Promise<RunningDemo> {
  const childEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, PORT: '0', REDIS_URL: '', MONGO_URL: '', OTEL_EXPORTER_OTLP_ENDPOINT: '', ...env })) {
    if (v !== undefined) childEnv[k] = v
  }
  const child = spawn(process.execPath, [MAIN, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill('SIGTERM')
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000)
    const code = await exited
    clearTimeout(kill)
    return code
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`demo did not print ready within 25 s:\n${out}`))
    }, 25_000)
    const check = () => {
      const match = /^ready: (\S+)/m.exec(out)
      if (!match) return
      clearTimeout(timer)
      child.stdout!.off('data', check)
      resolve({ url: match[1]!, child, output: () => out, stop })
    }
    child.stdout!.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`demo exited with ${code} before it was ready:\n${out}`))
    })
  })
}

/** Polls `fn` until it answers something truthy, or throws after `timeoutMs` with the last value. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
