import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

/** A child process running a `.mjs` fixture on the built packages, talking over IPC. */
export interface Fixture<Result> {
  readonly child: ChildProcess
  /** Resolves once the fixture said it is ready (connected, circuits built). */
  readonly ready: Promise<void>
  /** Resolves with the fixture's final report; rejects if it exits without one. */
  readonly result: Promise<Result>
  send(message: unknown): void
}

/**
 * Forks `path` with `args`. The fixture sends `{ ready: true }` once set up, then `{ result }`.
 * Every fixture is killed after `limitMs`, so a stuck child can never hang the test run.
 */
export function startFixture<Result>(path: string, args: string[], limitMs = 30_000): Fixture<Result> {
  const child = fork(path, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  const result = new Promise<Result>((resolve, reject) => {
    child.on('message', (message: { ready?: boolean; result?: Result }) => {
      if (message.ready) onReady()
      if ('result' in message) resolve(message.result as Result)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(killer)
      reject(new Error(`fixture ${path} exited (${code ?? signal}) without a result`))
    })
  })
  result.catch(() => {})
  return { child, ready, result, send: (message) => child.send(message as object) }
}

/** Starts `count` copies of a fixture, waits until all are ready, then tells them all to go at once. */
export async function raceFixtures<Result>(count: number, path: string, args: (i: number) => string[]): Promise<Result[]> {
  const fixtures = Array.from({ length: count }, (_, i) => startFixture<Result>(path, args(i)))
  await Promise.race([Promise.all(fixtures.map((f) => f.ready)), Promise.all(fixtures.map((f) => f.result))])
  for (const fixture of fixtures) fixture.send({ go: true })
  return Promise.all(fixtures.map((f) => f.result))
}
