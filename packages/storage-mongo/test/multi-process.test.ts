import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MongoStorage } from '@breaker/storage-mongo'
import { SKIP_REASON, connectIfConfigured, freshPrefix } from './server.js'

// Real child processes share one MongoDB. They cannot use the test alias, so they run plain
// .mjs fixtures that import the BUILT packages: build before running (CI builds first).
const server = await connectIfConfigured('multi-process.test.ts', 'processes')
const TITLE = server ? 'MongoStorage shared by 4 processes on a real server at MONGO_URL' : `MongoStorage shared by 4 processes — ${SKIP_REASON}`
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const built = [new URL('../dist/index.js', import.meta.url), new URL('../../core/dist/index.js', import.meta.url)].map((url) => fileURLToPath(url))

afterAll(async () => {
  await server?.db.dropDatabase()
  await server?.client.close()
})

/**
 * Starts one child per argument list, releases them together once all say "ready", and answers
 * each child's last stdout line as JSON. Rejects if a child exits non-zero.
 */
async function runTogether(script: string, argLists: string[][]): Promise<Array<Record<string, unknown>>> {
  const children = argLists.map((args) => spawn(process.execPath, [fixture(script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] }))
  const outputs = children.map(() => ({ stdout: '', stderr: '' }))
  let ready = 0
  const exits = children.map(
    (child, i) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          const before = outputs[i]!.stdout
          outputs[i]!.stdout += chunk
          if (!before.includes('ready\n') && outputs[i]!.stdout.includes('ready\n')) {
            ready += 1
            if (ready === children.length) for (const c of children) c.stdin.end('go\n')
          }
        })
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (outputs[i]!.stderr += chunk))
        child.on('error', reject)
        child.on('exit', (code) => {
          if (code !== 0) return reject(new Error(`${script} #${i} exited with ${code}: ${outputs[i]!.stderr}`))
          const last = outputs[i]!.stdout.trim().split('\n').at(-1)!
          resolve(JSON.parse(last) as Record<string, unknown>)
        })
      }),
  )
  return Promise.all(exits)
}

describe.skipIf(server === undefined)(TITLE, () => {
  beforeAll(() => {
    const missing = built.filter((path) => !existsSync(path))
    if (missing.length > 0) throw new Error(`child processes load the built packages; build first (pnpm build): missing ${missing.join(', ')}`)
  })

  it('4 processes × 2000 recordFailure calls on one circuit are counted as exactly 8000', async () => {
    const prefix = freshPrefix()
    const storage = await MongoStorage.create({ db: server!.db, collectionPrefix: prefix })
    const results = await runTogether('writer.mjs', Array.from({ length: 4 }, () => [server!.db.databaseName, prefix, 'shared', '2000']))
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ written: 2000 })))
    expect(await storage.failureCount('shared', 600_000)).toBe(8000)
    expect(await storage.successCount('shared', 600_000)).toBe(0)
  }, 120_000)

  it('4 processes racing to trip one circuit fire exactly one open hook between them', async () => {
    const prefix = freshPrefix()
    const storage = await MongoStorage.create({ db: server!.db, collectionPrefix: prefix })
    const results = await runTogether('tripper.mjs', Array.from({ length: 4 }, () => [server!.db.databaseName, prefix, 'contested']))
    expect(results.map((r) => r['rejected'])).toEqual([true, true, true, true])
    expect(results.reduce((sum, r) => sum + Number(r['opens']), 0)).toBe(1)
    expect(await storage.getStatus('contested')).toMatchObject({ status: 'open', epoch: 1 })
  }, 120_000)
})
