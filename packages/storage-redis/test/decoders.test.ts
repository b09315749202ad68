import { randomUUID } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { CHANNELS } from '@breaker/core'
import type { StatusRecord, StorageErrorMessage, StorageNotice, WindowCounts } from '@breaker/core'
import { statusProblem } from '@breaker/core/kit'
import { RedisStorage, circuitKeys } from '@breaker/storage-redis'
import { decodeMessage, decodeStatusFields, encodeMessage, encodeStatus } from '../src/status-codec.js'
import { connect } from './helpers/client.js'
import { startRedisServer } from './helpers/redis-server.mjs'
import { minimal, validRecord } from '../../core/test/support/status-arbitraries.js'

// What Redis can hand back for a hash field: nothing, or any string — the tricky ones weighted in.
const field = fc.oneof(
  fc.constant(null),
  fc.constantFrom('closed', 'open', 'half_open', '', 'NaN', 'abc', '1e400', 'Infinity', '-1', '01', '1.5', '9007199254740993', '8640000000000001'),
  fc.integer({ min: -10, max: Number.MAX_SAFE_INTEGER }).map(String),
  fc.double().map(String),
  fc.string(),
)

const storedRecord = fc.record(
  {
    status: fc.oneof(fc.constantFrom('closed', 'open', 'half_open'), fc.jsonValue()),
    openedAt: fc.oneof(fc.jsonValue(), fc.nat()),
    epoch: fc.oneof(fc.jsonValue(), fc.nat()),
    updatedAt: fc.oneof(fc.jsonValue(), fc.nat()),
    backoff: fc.oneof(fc.jsonValue(), fc.nat()),
    holds: fc.oneof(fc.jsonValue(), fc.nat()),
  },
  { requiredKeys: [] },
)
// Pub/sub messages: garbage, any JSON, and messages shaped like ours with any values inside.
const message = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({ c: fc.oneof(fc.string(), fc.jsonValue()), r: fc.oneof(fc.constant(null), storedRecord, fc.jsonValue()), all: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
)

function expectValid(record: StatusRecord): void {
  expect(statusProblem(record)).toBeUndefined()
  for (const value of [record.epoch, record.updatedAt, record.openedAt ?? 0]) expect(Number.isFinite(value)).toBe(true)
}

function expectNotice(notice: StorageNotice): void {
  if (notice.resync) expect(notice.circuit === undefined || typeof notice.circuit === 'string').toBe(true)
  else expectValid(notice.record)
}

describe('status and message decoders, fed arbitrary values', () => {
  it('turn any status hash fields into absent, a valid record, or a reason it is corrupt — never a throw', () => {
    fc.assert(
      fc.property(fc.tuple(field, field, field, field, field, field), (fields) => {
        const decoded = decodeStatusFields(fields)
        if (decoded === null) expect(fields.every((f) => f === null)).toBe(true)
        else if ('record' in decoded) expectValid(decoded.record)
        else expect(typeof decoded.corrupt).toBe('string')
      }),
      { numRuns: 2_000 },
    )
  })

  it('give back any valid record from its hash fields and from its channel message, backoff and holds included', () => {
    fc.assert(
      fc.property(validRecord, (record) => {
        expect(decodeStatusFields(encodeStatus(record).map((v, i) => (v === '' && i >= 4 ? null : v)))).toEqual({ record: minimal(record) })
        expect(decodeMessage(encodeMessage({ c: 'x', r: record }))).toEqual({ notice: { circuit: 'x', record: minimal(record) } })
      }),
      { numRuns: 2_000 },
    )
  })

  it('turn any channel message into a valid notice or a reason it is corrupt — never a throw', () => {
    fc.assert(
      fc.property(message, (raw) => {
        const decoded = decodeMessage(raw)
        if ('notice' in decoded) expectNotice(decoded.notice)
        else expect(typeof decoded.corrupt).toBe('string')
      }),
      { numRuns: 2_000 },
    )
  })
})

const server = await startRedisServer()
const admin = connect(server)
afterAll(async () => {
  admin.disconnect()
  await server.stop()
})

describe('RedisStorage reading arbitrary values from a real Redis', () => {
  it('reads any stored status hash as absent + reported, or as a valid record', async () => {
    const reports: StorageErrorMessage[] = []
    const onReport = (message: unknown) => reports.push(message as StorageErrorMessage)
    diagnostics.subscribe(CHANNELS.storageError, onReport)
    const storage = new RedisStorage({ client: connect(server), prefix: 'prop' })
    try {
      await fc.assert(
        fc.asyncProperty(fc.tuple(field, field, field, field, field, field), validRecord, async ([s, o, e, u, b, h], next) => {
          const name = randomUUID()
          const values = Object.entries({ s, o, e, u, b, h }).filter(([, v]) => v !== null) as Array<[string, string]>
          if (values.length > 0) await admin.hset(circuitKeys('prop', name).status, Object.fromEntries(values))
          reports.length = 0
          const record = await storage.getStatus(name)
          if (record === null) {
            if (values.length > 0) expect(reports).toMatchObject([{ circuit: name, error: { code: 'ERR_STORAGE_CORRUPT' } }])
          } else {
            expectValid(record)
            expect(reports).toEqual([])
          }
          // Whatever was stored, a compare-and-set from what was read wins, and replaces every field.
          const written = { ...next, epoch: Math.min((record?.epoch ?? 0) + 1, Number.MAX_SAFE_INTEGER) }
          expect(await storage.compareAndSetStatus(name, record?.epoch ?? 0, written)).toBe(true)
          expect(await storage.getStatus(name)).toEqual(minimal(written))
        }),
        { numRuns: 200 },
      )
    } finally {
      diagnostics.unsubscribe(CHANNELS.storageError, onReport)
      await storage.close()
      storage.client.disconnect()
    }
  })

  it('answers window counts that are safe integers, or a StorageError, whatever the counter hash holds', async () => {
    const storage = new RedisStorage({ client: connect(server), prefix: 'propcounts' })
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.oneof(fc.string(), fc.constantFrom('f', 's', 'fNaN', 's-1')), field), { maxLength: 6 }), async (entries) => {
          const name = randomUUID()
          const { now } = { now: Math.floor(Date.now() / 1_000) }
          const fields = entries.filter(([, v]) => v !== null).flatMap(([k, v], i) => [i % 2 ? `f${now}${k}` : k, v!])
          if (fields.length > 0) await admin.hset(circuitKeys('propcounts', name).counts, ...fields)
          const answer: WindowCounts | Error = await storage.record(name, 'failure', 0, 60_000).catch((error: Error) => error)
          if (answer instanceof Error) expect(answer).toMatchObject({ name: 'StorageError', storage: 'redis' })
          else for (const n of [answer.failures, answer.successes]) expect(Number.isSafeInteger(n) && n >= 0).toBe(true)
        }),
        { numRuns: 200 },
      )
    } finally {
      await storage.close()
      storage.client.disconnect()
    }
  })

  it('pushes only valid notices for any message published on its channel, reporting the rest', async () => {
    const reports: StorageErrorMessage[] = []
    const onReport = (m: unknown) => reports.push(m as StorageErrorMessage)
    diagnostics.subscribe(CHANNELS.storageError, onReport)
    const storage = new RedisStorage({ client: connect(server), prefix: 'propmsg' })
    const notices: StorageNotice[] = []
    const stop = storage.subscribe((notice) => notices.push(notice))
    try {
      await storage.setStatus('live', { status: 'closed', openedAt: null, epoch: 1, updatedAt: 1 })
      notices.length = 0
      reports.length = 0
      const sent = fc.sample(message, 300)
      for (const raw of sent) await admin.publish('propmsg:status-changes', raw)
      await admin.publish('propmsg:status-changes', JSON.stringify({ c: 'end', r: null }))
      for (let i = 0; i < 200 && !notices.some((n) => n.circuit === 'end'); i++) await new Promise((r) => setTimeout(r, 10))
      for (const notice of notices) expectNotice(notice)
      const decoded = sent.map((raw) => decodeMessage(raw))
      const valid = decoded.filter((d) => 'notice' in d).length
      // A corrupt message naming a circuit tells that circuit to re-read.
      const named = decoded.filter((d) => 'corrupt' in d && d.circuit !== undefined).length
      expect(notices.length).toBe(valid + named + 1)
      expect(reports.length).toBe(sent.length - valid)
      expect(reports.every((r) => r.error.code === 'ERR_STORAGE_CORRUPT')).toBe(true)
    } finally {
      stop()
      diagnostics.unsubscribe(CHANNELS.storageError, onReport)
      await storage.close()
      storage.client.disconnect()
    }
  })
})
