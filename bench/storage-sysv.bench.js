// SysVStorage per-call cost, and the same calls while other processes write the same circuit,
// against BucketMemoryStorage (the same per-second ring, in one process's heap). Plain ESM over
// the built dist: `pnpm bench storage-sysv` (build first). Every segment it makes is destroyed.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { SysVStorage } from '../packages/storage-sysv/dist/index.js'
import { BucketMemoryStorage } from '../packages/storage-bucket/dist/index.js'

const WINDOW = 60_000
const self = fileURLToPath(import.meta.url)

// Child role: hammer record() on the shared circuit until killed, or do `count` calls and report.
if (process.argv[2] === 'child') {
  const storage = new SysVStorage({ path: process.argv[3] })
  const count = Number(process.argv[4])
  process.send({ type: 'ready' })
  process.on('message', () => {
    const start = process.hrtime.bigint()
    const cpu = process.cpuUsage()
    for (let i = 0; i < count; i++) storage.record('hot', 'failure', 0, WINDOW)
    const ns = Number(process.hrtime.bigint() - start)
    const used = process.cpuUsage(cpu)
    process.send({ type: 'done', nsPerCall: ns / count, cpuNsPerCall: ((used.user + used.system) * 1000) / count }, () => process.exit(0))
  })
} else {
  await main()
}

function children(path, n, count) {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = fork(self, ['child', path, String(count)])
      return new Promise((resolve) => child.once('message', () => resolve(child)))
    }),
  )
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'breaker-sysv-bench-'))
  const sysv = new SysVStorage({ path: dir })
  const bucket = new BucketMemoryStorage()
  try {
    // Every bucket of the window holds outcomes, so counts read a full minute of data.
    for (let back = 0; back < 60; back++) {
      const past = new SysVStorage({ path: dir, clock: () => Date.now() - back * 1000 })
      past.recordSuccess('hot', 1)
      past.recordFailure('status', 1)
      await past.close()
    }
    sysv.setStatus('status', { status: 'closed', openedAt: null, epoch: 3, updatedAt: Date.now() })
    bucket.setStatus('status', { status: 'closed', openedAt: null, epoch: 3, updatedAt: Date.now() })

    group('one process', () => {
      summary(() => {
        bench('sysv: record(failure) + counts over 60 s', () => do_not_optimize(sysv.record('hot', 'failure', 0, WINDOW)))
        bench('bucket: record(failure) + counts over 60 s', () => do_not_optimize(bucket.record('hot', 'failure', 0, WINDOW)))
      })
      bench('sysv: recordFailure', () => sysv.recordFailure('hot', 0))
      bench('sysv: failureCount over 60 s', () => do_not_optimize(sysv.failureCount('hot', WINDOW)))
      summary(() => {
        bench('sysv: getStatus', () => do_not_optimize(sysv.getStatus('status')))
        bench('bucket: getStatus', () => do_not_optimize(bucket.getStatus('status')))
      })
    })
    await run()

    // The same call while other processes write the same circuit's counters (one writer per spare core).
    const writers = Math.max(1, availableParallelism() - 1)
    const hammering = await children(dir, writers, 50_000_000)
    for (const child of hammering) child.send('go')
    group(`while ${writers} other process(es) write the same circuit`, () => {
      bench('sysv: record(failure) + counts over 60 s, contended', () => do_not_optimize(sysv.record('hot', 'failure', 0, WINDOW)))
    })
    await run()
    for (const child of hammering) child.kill('SIGKILL')

    // Throughput: N processes each doing 1 000 000 record() calls on one circuit at once (the
    // worst case: every call hits the same cache lines). Wall time includes forking nothing:
    // the children are started first and timed from 'go'; more processes than cores share them.
    for (const n of [1, 2, 4]) {
      const before = sysv.failureCount('hot', WINDOW)
      const workers = await children(dir, n, 1_000_000)
      const done = workers.map((child) => new Promise((resolve) => child.once('message', resolve)))
      const start = process.hrtime.bigint()
      for (const child of workers) child.send('go')
      const results = await Promise.all(done)
      const wall = Number(process.hrtime.bigint() - start)
      const added = sysv.failureCount('hot', WINDOW) - before
      const cpu = results.map((r) => r.cpuNsPerCall.toFixed(0)).join(', ')
      console.log(
        `${n} process(es) × 1 000 000 record() on one circuit: ${(wall / (n * 1_000_000)).toFixed(0)} ns wall per call overall, ` +
          `CPU ns per call in each [${cpu}], counted ${added} (expected ${n * 1_000_000})`,
      )
    }
  } finally {
    sysv.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}
