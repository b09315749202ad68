import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isCount, readStoredStatus, statusProblem } from '@breaker/core/kit'
import type { StatusRecord } from '@breaker/core'
import { KeyvStorage } from '@breaker/storage-keyv'
import { decodeSlot, decodeWriterValue, encodeStatus, sumWindow } from '../src/decode.js'
import { memoryKeyv } from './helpers/stores.js'
import { minimal, validRecord } from '../../core/test/support/status-arbitraries.js'

const source = { storage: 'keyv', circuit: 'c', operation: 'test' }

// Values a store could hand back: anything JSON-ish, plus near-misses of our own shapes.
const count = fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string(), fc.constantFrom('041', '1e3', 'NaN', '-1', '9007199254740993'), fc.bigInt().map(String))
const nearWriter = fc.record({ g: fc.oneof(fc.string(), fc.anything()), b: fc.oneof(fc.array(fc.tuple(count, count, count)), fc.anything()) })
const nearStatus = fc.record(
  {
    status: fc.oneof(fc.constantFrom('closed', 'open', 'half_open'), fc.anything()),
    openedAt: fc.oneof(fc.constant(null), count, fc.anything()),
    epoch: fc.oneof(count, fc.anything()),
    updatedAt: fc.oneof(count, fc.anything()),
    backoff: fc.oneof(count, fc.anything()),
    holds: fc.oneof(count, fc.anything()),
  },
  { requiredKeys: [] },
)
const stored = fc.oneof(fc.anything(), fc.jsonValue(), nearWriter, nearStatus)

describe('Keyv decoders take any stored value', () => {
  it('a writer value decodes to whole counts >= 0 and safe-integer buckets, or to absent', () => {
    fc.assert(
      fc.property(stored, (value) => {
        const decoded = decodeWriterValue(value, source)
        if (decoded === undefined) return
        expect(typeof decoded.g).toBe('string')
        for (const [index, failures, successes] of decoded.b) {
          expect(Number.isSafeInteger(index)).toBe(true)
          expect(isCount(failures) && isCount(successes)).toBe(true)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('a window sum over any decoded values is a pair of safe integers >= 0', () => {
    fc.assert(
      fc.property(fc.array(stored, { maxLength: 8 }), fc.integer(), fc.nat(1_000), (values, first, span) => {
        const decoded = values.map((value) => decodeWriterValue(value, source))
        const sum = sumWindow(decoded, '/', first, first + span)
        expect(isCount(sum.failures) && isCount(sum.successes)).toBe(true)
      }),
    )
  })

  it('a slot decodes to a writer id or to free', () => {
    fc.assert(
      fc.property(stored, (value) => {
        const id = decodeSlot(value, source)
        expect(id === undefined || /^[\w.-]{1,100}$/.test(id)).toBe(true)
      }),
      { numRuns: 2_000 },
    )
  })

  it('a status decodes to a valid record or to absent', () => {
    fc.assert(
      fc.property(stored, (value) => {
        const record = readStoredStatus(value, source)
        if (record !== null) expect(statusProblem(record)).toBeUndefined()
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('KeyvStorage on any status it is given', () => {
  it('reads back every valid record as written, backoff and holds included (0 left out)', async () => {
    const keyv = memoryKeyv()
    const storage = new KeyvStorage({ keyv, clock: () => 1_767_225_600_000, prefix: 'p' })
    await fc.assert(
      fc.asyncProperty(validRecord, async (record) => {
        await storage.setStatus('c', record)
        expect(await storage.getStatus('c')).toEqual(minimal(record))
        expect(readStoredStatus(JSON.parse(JSON.stringify(encodeStatus(record))), source)).toEqual(minimal(record))
      }),
      { numRuns: 500 },
    )
  })
})

describe('KeyvStorage on any stored values', () => {
  it('answers a valid status or null, and safe-integer counts, never throwing', async () => {
    const keyv = memoryKeyv()
    const storage = new KeyvStorage({ keyv, clock: () => 1_767_225_600_000, prefix: 'p' })
    await fc.assert(
      fc.asyncProperty(stored, stored, stored, async (status, slot, writer) => {
        await keyv.set('p:c:c:status', status)
        await keyv.set('p:c:c:slot:0', slot)
        await keyv.set('p:c:c:w:hand', writer)
        const record = await storage.getStatus('c')
        if (record !== null) expect(statusProblem(record)).toBeUndefined()
        const failures = await storage.failureCount('c', 60_000)
        expect(isCount(failures)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
