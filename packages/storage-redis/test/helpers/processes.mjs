// Child processes running `.mjs` fixtures on the built packages, talking over IPC. Plain ESM so
// that both @breaker/storage-redis and @breaker/storage-keyv tests can import it.
import { fork } from 'node:child_process'

/**
 * Forks `path` with `args`. The fixture sends `{ ready: true }` once set up, then `{ result }`.
 * Every fixture is killed after `limitMs`, so a stuck child can never hang the test run.
 */
export function startFixture(path, args, limitMs = 30_000) {
  const child = fork(path, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  let onReady = () => {}
  const ready = new Promise((resolve) => (onReady = resolve))
  const result = new Promise((resolve, reject) => {
    child.on('message', (message) => {
      if (message.ready) onReady()
      if ('result' in message) resolve(message.result)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(killer)
      reject(new Error(`fixture ${path} exited (${code ?? signal}) without a result`))
    })
  })
  result.catch(() => {})
  return { child, ready, result, send: (message) => child.send(message) }
}

/** Starts `count` copies of a fixture, waits until all are ready, then tells them all to go at once. */
export async function raceFixtures(count, path, args) {
  const fixtures = Array.from({ length: count }, (_, i) => startFixture(path, args(i)))
  await Promise.race([Promise.all(fixtures.map((f) => f.ready)), Promise.all(fixtures.map((f) => f.result))])
  for (const fixture of fixtures) fixture.send({ go: true })
  return Promise.all(fixtures.map((f) => f.result))
}
