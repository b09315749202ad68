import diagnostics from 'node:diagnostics_channel'
import fc from 'fast-check'
import { Query } from 'mingo'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { statusProblem } from '@breaker/core/kit'
import { MongoStorage } from '@breaker/storage-mongo'
import { parseStatusDocument, validStatusFilter } from '../src/documents.js'
import { FakeDb } from './fake-db.js'

// Unit tests with a recording fake and mingo (MongoDB's query language in JS): these do not talk
// to MongoDB; they check that the reader and the server-side filter apply core's validity rules.

const T = Date.UTC(2026, 0, 1, 12)
let published: Array<{ circuit: string; error: { code: string } }> = []
const onError = (message: unknown) => void published.push(message as (typeof published)[number])
beforeEach(() => {
  published = []
  diagnostics.subscribe('breaker:storage:error', onError)
})
afterEach(() => void diagnostics.unsubscribe('breaker:storage:error', onError))

function setup() {
  const db = new FakeDb()
  return { db, storage: new MongoStorage({ db: db.asDb(), clock: () => T }) }
}

describe("status documents follow core's validity rules (fake driver, mingo; does not talk to MongoDB)", () => {
  it.each([
    ['a fractional epoch', { status: 'closed', openedAt: null, epoch: 2.5, updatedAt: T }],
    ['an epoch past Number.MAX_SAFE_INTEGER', { status: 'closed', openedAt: null, epoch: 2 ** 53, updatedAt: T }],
    ['a negative updatedAt', { status: 'closed', openedAt: null, epoch: 1, updatedAt: -5 }],
    ['an updatedAt past what a Date can hold', { status: 'closed', openedAt: null, epoch: 1, updatedAt: 1e20 }],
    ['an open status with openedAt null', { status: 'open', openedAt: null, epoch: 1, updatedAt: T }],
    ['a half-open status with a negative openedAt', { status: 'half_open', openedAt: -1, epoch: 1, updatedAt: T }],
    ['a fractional backoff', { status: 'open', openedAt: T, epoch: 1, updatedAt: T, backoff: 1.5 }],
    ['negative holds', { status: 'open', openedAt: T, epoch: 1, updatedAt: T, holds: -1 }],
    ['holds stored as a string', { status: 'open', openedAt: T, epoch: 1, updatedAt: T, holds: '2' }],
    ['a backoff past Number.MAX_SAFE_INTEGER', { status: 'open', openedAt: T, epoch: 1, updatedAt: T, backoff: 2 ** 53 }],
  ])('a document with %s is corrupt for the reader and the filter, and reported to core', async (_, document) => {
    expect('corrupt' in parseStatusDocument(document)).toBe(true)
    expect(new Query(validStatusFilter()).test(document)).toBe(false)
    const { db, storage } = setup()
    db.answer('breaker_status.findOne', { value: { _id: 'payments', v: 1, ...document } })
    expect(await storage.getStatus('payments')).toBeNull()
    expect(published.map((p) => [p.circuit, p.error.code])).toEqual([['payments', 'ERR_STORAGE_CORRUPT']])
  })

  it('a closed document without an openedAt field is readable, by the reader and the filter', () => {
    const document = { status: 'closed', epoch: 3, updatedAt: T }
    expect(parseStatusDocument(document)).toEqual({ record: { status: 'closed', openedAt: null, epoch: 3, updatedAt: T } })
    expect(new Query(validStatusFilter()).test(document)).toBe(true)
  })

  it('any document decodes to a valid record or to corrupt, never throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ status: fc.anything(), openedAt: fc.anything(), epoch: fc.anything(), updatedAt: fc.anything() })), (document) => {
        const parsed = parseStatusDocument(document)
        if ('record' in parsed) expect(statusProblem(parsed.record)).toBeUndefined()
        else expect(typeof parsed.corrupt).toBe('string')
      }),
      { numRuns: 3_000 },
    )
  })
})

describe('bucket sums (fake driver; does not talk to MongoDB)', () => {
  it('a window summing past Number.MAX_SAFE_INTEGER answers MAX_SAFE_INTEGER, never an unsafe count', async () => {
    const { db, storage } = setup()
    db.answer('breaker_buckets.aggregate', { value: [{ _id: null, failures: 2 * Number.MAX_SAFE_INTEGER, successes: 0, corrupt: 0 }] })
    expect(await storage.failureCount('payments', 60_000)).toBe(Number.MAX_SAFE_INTEGER)
  })
})
