import fc from 'fast-check'
import { Query } from 'mingo'
import { describe, expect, it } from 'vitest'
import { Circuit, isCircuitOpenError } from '@breaker/core'
import { storageConformance } from '@breaker/storage-test-suite'
import { MongoStorage } from '@breaker/storage-mongo'
import { parseStatusDocument, validStatusFilter } from '../src/documents.js'
import { EmulatedDb } from './emulated-db.js'

// These run the storage's real queries through mingo, an in-memory JavaScript implementation of
// MongoDB's query language. They do not talk to MongoDB: they check what the filters, updates and
// pipelines mean, not how a server executes them (see real-server.test.ts for that).

describe('MongoStorage on an in-memory emulation of the driver (mingo; does not talk to MongoDB)', () => {
  storageConformance(
    { describe, it, expect },
    ({ clock }) => MongoStorage.create({ db: new EmulatedDb().asDb(), clock, changeStreams: true }),
    { name: 'mongo queries, emulated with mingo (not a server)', granularityMs: 1000 },
  )
})

describe('status validity: the reader and the server-side filter agree (mingo; does not talk to MongoDB)', () => {
  const field = fc.oneof(
    fc.constantFrom('closed', 'open', 'half_open', 'ajar', '', null, undefined, 0, 1, -1, 2.5, Number.NaN, Infinity, -Infinity),
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.boolean(),
    fc.constant(new Date(0)),
  )
  // The optional counters: well formed (a count, or null) most of the time, so that with two more
  // fields readable documents stay common (with 4 000 runs); near the bound and past it now and then.
  const counter = fc.oneof(
    { arbitrary: fc.oneof(fc.nat(), fc.constant(null)), weight: 10 },
    { arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53), weight: 1 },
    { arbitrary: field, weight: 1 },
  )
  // Each field is well formed half of the time, so both readable and corrupt documents are common.
  const document = fc.record(
    {
      status: fc.oneof(fc.constantFrom('closed', 'open', 'half_open'), field),
      openedAt: fc.oneof(fc.oneof(fc.constant(null), fc.integer({ min: 0 })), field),
      epoch: fc.oneof(fc.nat(), field),
      updatedAt: fc.oneof(fc.integer({ min: 0 }), field),
      backoff: counter,
      holds: counter,
    },
    { requiredKeys: [] },
  )

  it('a document is readable exactly when validStatusFilter matches it', () => {
    const query = new Query(validStatusFilter())
    const seen = { readable: 0, corrupt: 0 }
    fc.assert(
      fc.property(document, (doc) => {
        const clean = Object.fromEntries(Object.entries(doc).filter(([, value]) => value !== undefined))
        const readable = 'record' in parseStatusDocument(clean)
        seen[readable ? 'readable' : 'corrupt'] += 1
        expect(query.test(clean)).toBe(readable)
      }),
      { numRuns: 4_000 },
    )
    expect(seen.readable).toBeGreaterThan(50)
    expect(seen.corrupt).toBeGreaterThan(50)
  })
})

describe('Circuits sharing MongoStorage, emulated with mingo (does not talk to MongoDB)', () => {
  it('4 circuit instances racing to trip one circuit fire exactly one open hook between them', async () => {
    const db = new EmulatedDb().asDb()
    let now = Date.UTC(2026, 0, 1)
    const clock = () => now
    let opens = 0
    // One storage object per "instance", as separate processes would have, on the same collections.
    const instances = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const storage = await MongoStorage.create({ db, clock })
        return new Circuit('contested', {
          storage,
          clock,
          registry: false,
          threshold: { failures: 20, within: 60_000 },
          resetAfter: 600_000,
          on: { open: () => (opens += 1) },
        })
      }),
    )
    const failing = async () => {
      throw new Error('downstream failure (expected by this test)')
    }
    const rejected = await Promise.all(
      instances.map(async (circuit) => {
        for (let calls = 0; calls < 200; calls++) {
          now += 1
          const error = await circuit.call(failing).catch((e: unknown) => e)
          if (isCircuitOpenError(error)) return true
        }
        return false
      }),
    )
    await Promise.all(instances.map((circuit) => circuit.dispose()))
    expect(rejected).toEqual([true, true, true, true])
    expect(opens).toBe(1)
    expect(await new MongoStorage({ db, clock }).getStatus('contested')).toMatchObject({ status: 'open', epoch: 1 })
  })
})
