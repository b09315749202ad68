import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const fixture = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url))
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url))

/** A message a worker sent. */
export interface WorkerMessage {
  readonly type: string
  readonly result?: unknown
  readonly message?: string
}

const live = new Set<Worker>()

/** Kills every worker still running (afterEach), so a failed test leaves no process behind. */
export async function killWorkers(): Promise<void> {
  await Promise.all([...live].map((worker) => worker.kill()))
}

/** One child process running `fixtures/worker.mjs`. */
export class Worker {
  readonly child: ChildProcess
  private readonly inbox: WorkerMessage[] = []
  private waiters: (() => void)[] = []
  readonly exited: Promise<NodeJS.Signals | number | null>

  constructor(task: Record<string, unknown>) {
    if (!existsSync(built)) throw new Error(`child processes load ${built}: run \`pnpm --filter @breaker/storage-sysv build\` first`)
    this.child = fork(fixture, [JSON.stringify(task)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (message: WorkerMessage) => {
      this.inbox.push(message)
      for (const wake of this.waiters.splice(0)) wake()
    })
    live.add(this)
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        live.delete(this)
        resolve(signal ?? code)
      }),
    )
  }

  /** Resolves with the next message of `type`; rejects on an `error` message or an early exit. */
  async next(type: string): Promise<WorkerMessage> {
    for (;;) {
      const index = this.inbox.findIndex((message) => message.type === type || message.type === 'error')
      if (index >= 0) {
        const [message] = this.inbox.splice(index, 1)
        if (message!.type === 'error') throw new Error(`worker failed: ${message!.message}`)
        return message!
      }
      const exited = this.child.exitCode !== null || this.child.signalCode !== null
      if (exited) throw new Error(`worker exited before sending ${type}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        this.child.once('exit', () => resolve())
      })
    }
  }

  go(): void {
    this.child.send({ type: 'go' })
  }

  /** Kills with SIGKILL and waits until the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    await this.exited
  }
}

/** Starts `count` workers with the same task and waits until each has opened the segment. */
export async function startWorkers(count: number, task: (index: number) => Record<string, unknown>): Promise<Worker[]> {
  const workers = Array.from({ length: count }, (_, index) => new Worker(task(index)))
  await Promise.all(workers.map((worker) => worker.next('ready')))
  return workers
}

/** Sends `go` to every worker and collects each one's result. */
export async function runAll(workers: Worker[]): Promise<unknown[]> {
  for (const worker of workers) worker.go()
  const done = await Promise.all(workers.map((worker) => worker.next('done')))
  await Promise.all(workers.map((worker) => worker.exited))
  return done.map((message) => message.result)
}
