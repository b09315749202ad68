import { describe, expect, it } from 'vitest'
import { isStorageError } from '@breaker/core'
import { MongoStorage } from '@breaker/storage-mongo'
import { FakeDb } from './fake-db.js'

const HOSTILE = ['{"$gt": ""}', 'a.b', '$where', '$gt', 'a.$[]', 'x\u0000y', '__proto__', '{"$ne": null}', 'ü 🚀 *:{}']
const RECORD = { status: 'open', openedAt: 1, epoch: 1, updatedAt: 1 } as const

/** Every key anywhere in a command (filters, updates, pipelines, options). */
function keysOf(value: unknown, keys: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) keysOf(item, keys)
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      keys.push(key)
      keysOf(inner, keys)
    }
  }
  return keys
}

/** Every string value anywhere in a command. */
function stringsOf(value: unknown, strings: string[] = []): string[] {
  if (typeof value === 'string') strings.push(value)
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, strings)
  else if (typeof value === 'object' && value !== null) for (const inner of Object.values(value)) stringsOf(inner, strings)
  return strings
}

async function everyOperation(storage: MongoStorage, name: string): Promise<void> {
  await storage.getStatus(name)
  await storage.setStatus(name, RECORD)
  await storage.compareAndSetStatus(name, 0, RECORD)
  await storage.compareAndSetStatus(name, 1, { ...RECORD, epoch: 2 })
  await storage.recordFailure(name, 1)
  await storage.recordSuccess(name, 1)
  await storage.failureCount(name, 60_000)
  await storage.record(name, 'failure', 1, 60_000)
  await storage.recordBatch(name, { failures: 1, successes: 1 }, 60_000)
  await storage.acquireProbe(name, 1, 1_000)
  await storage.clear(name)
}

describe('circuit names in MongoStorage commands (unit tests with a recording fake: these do not talk to MongoDB)', () => {
  it.each(HOSTILE)('the name %j lands only as a plain string value at _id or circuit, never as a key or path', async (name) => {
    const db = new FakeDb()
    const plain = new FakeDb()
    await everyOperation(new MongoStorage({ db: db.asDb(), clock: () => 1_767_225_600_000 }), name)
    await everyOperation(new MongoStorage({ db: plain.asDb(), clock: () => 1_767_225_600_000 }), 'plain')
    expect(db.sent.length).toBeGreaterThanOrEqual(13)
    // Every command has exactly the shape (the same keys, operators and paths) it has for a plain name.
    expect(db.sent.map((command) => keysOf(command.args))).toEqual(plain.sent.map((command) => keysOf(command.args)))
    for (const command of db.sent) {
      const filter = command.args[0] as Record<string, unknown>
      // Either the filter (or the pipeline's $match) holds the name verbatim as a string value…
      const where = command.method === 'aggregate' ? ((filter as unknown as Array<{ $match: Record<string, unknown> }>)[0]!.$match) : filter
      expect([where['_id'], where['circuit']]).toContain(name)
    }
  })

  it('a name that looks like an operator is still only an equality on a string', async () => {
    const db = new FakeDb()
    await new MongoStorage({ db: db.asDb() }).getStatus('{"$gt": ""}')
    expect(db.sent[0]!.args[0]).toStrictEqual({ _id: '{"$gt": ""}' })
    expect(typeof (db.sent[0]!.args[0] as { _id: unknown })._id).toBe('string')
  })

  it.each([{ $gt: '' }, { $where: 'sleep(100)' }, ['a'], 42, null, undefined])(
    'a non-string name %j is refused with a StorageError before any command is sent',
    async (name) => {
      const db = new FakeDb()
      const storage = new MongoStorage({ db: db.asDb() })
      const bad = name as unknown as string
      for (const attempt of [
        () => storage.getStatus(bad),
        () => storage.setStatus(bad, RECORD),
        () => storage.compareAndSetStatus(bad, 0, RECORD),
        () => storage.recordFailure(bad, 1),
        () => storage.successCount(bad, 1_000),
        () => storage.record(bad, 'success', 1, 1_000),
        () => storage.acquireProbe(bad, 1, 1_000),
        () => storage.clear(bad),
      ]) {
        await expect(attempt()).rejects.toSatisfy(isStorageError)
      }
      expect(db.sent).toHaveLength(0)
    },
  )

  it('an expectedEpoch that is not a number (say, an operator object) is refused', async () => {
    const db = new FakeDb()
    const storage = new MongoStorage({ db: db.asDb() })
    await expect(storage.compareAndSetStatus('payments', { $gt: 0 } as unknown as number, RECORD)).rejects.toSatisfy(isStorageError)
    expect(db.sent).toHaveLength(0)
  })

  it('a probe id goes into the lease pipeline inside $literal, so it is never read as an expression', async () => {
    const db = new FakeDb()
    await new MongoStorage({ db: db.asDb() }).acquireProbe('$where', 2, 1_000)
    const literal = JSON.stringify(db.sent[0]!.args[1]).match(/\{"\$literal":\[\{"id":"[0-9a-f-]{36}","expiresAt":\d+\}\]\}/)
    expect(literal).not.toBeNull()
    expect(stringsOf(db.sent[0]!.args[1])).not.toContain('$where')
  })
})
