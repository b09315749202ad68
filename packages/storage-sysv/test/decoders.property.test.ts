import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isStorageError } from '@breaker/core'
import type { StatusRecord } from '@breaker/core'
import { decodeStatus } from '@breaker/core/kit'
import { SysVStorage } from '@breaker/storage-sysv'
import { H, HEADER_BYTES, L, LEASE_BYTES, R, S, STATUS_RECORD_BYTES, computeLayout } from '../src/layout.js'
import { loadAddon } from '../src/load.js'
import { destroyAll, freshPath, freshStorage } from './helpers.js'
import { minimal, validRecord } from '../../core/test/support/status-arbitraries.js'

// Shared memory can hold anything another process, an older version or a stray write left
// there. Whatever the bytes, a read answers a valid record or "absent" (reported as corrupt),
// counts are safe integers >= 0, and the only exception a storage throws is a StorageError.

const addon = loadAddon()
const SLOTS = 1
const BUCKETS = 8
const LEASES = 4
const layout = computeLayout(SLOTS, BUCKETS, LEASES)
const slot = HEADER_BYTES // the only slot
const NAME = 'p'
const NOW = Date.UTC(2026, 0, 1)

let path: string
let owner: SysVStorage
let memory: ArrayBuffer
const reports: { error: { code: string } }[] = []
const onReport = (message: unknown) => reports.push(message as { error: { code: string } })

beforeAll(() => {
  path = freshPath()
  owner = freshStorage({ path, slots: SLOTS, bucketCount: BUCKETS, leasesPerCircuit: LEASES, clock: () => NOW })
  owner.recordFailure(NAME, 1) // claims slot 0 for NAME
  memory = addon.shmAttach(owner.info().shmid)
  subscribe('breaker:storage:error', onReport)
})

afterAll(() => {
  unsubscribe('breaker:storage:error', onReport)
  addon.shmDetach(memory)
  destroyAll()
})

/** A fresh handle on the shared segment: nothing decoded by an earlier run is remembered. */
function handle(): SysVStorage {
  return new SysVStorage({ path, slots: SLOTS, bucketCount: BUCKETS, leasesPerCircuit: LEASES, clock: () => NOW })
}

const i32 = () => new Int32Array(memory)
const f64 = () => new Float64Array(memory)
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
// Every double, NaN and infinities included, and the raw bit patterns of any 8 bytes.
const anyDouble = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 2 ** 53, 8.64e15 + 1))

// A stored backoff or holds word: mostly 0 (absent) or a count, so that valid records stay common; any double now and then.
const counter = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat(), weight: 2 }, { arbitrary: fc.constant(Number.MAX_SAFE_INTEGER), weight: 1 }, { arbitrary: anyDouble, weight: 1 })

/** Writes a status record's raw words at byte offset `at`: its code, then epoch, openedAt, updatedAt, backoff, holds. */
function writeRaw(at: number, code: number, [epoch, openedAt, updatedAt, backoff, holds]: readonly number[]): void {
  i32()[(at + R.CODE) >> 2] = code
  f64()[(at + R.EPOCH) >> 3] = epoch!
  f64()[(at + R.OPENED_AT) >> 3] = openedAt!
  f64()[(at + R.UPDATED_AT) >> 3] = updatedAt!
  f64()[(at + R.BACKOFF) >> 3] = backoff!
  f64()[(at + R.HOLDS) >> 3] = holds!
}

function expectSafeCount(value: number): void {
  expect(Number.isSafeInteger(value) && value >= 0).toBe(true)
}

describe('status slots hold arbitrary bytes', () => {
  it('getStatus answers a valid record, or null with a corrupt report — never throws, never a non-finite number', () => {
    fc.assert(
      fc.property(int32, int32, anyDouble, anyDouble, anyDouble, counter, counter, (version, code, epoch, openedAt, updatedAt, backoff, holds) => {
        const at = slot + S.STATUS + (version & 1) * STATUS_RECORD_BYTES
        i32()[(slot + S.STATUS_VERSION) >> 2] = version
        writeRaw(at, code, [epoch, openedAt, updatedAt, backoff, holds])
        reports.length = 0
        const storage = handle()
        try {
          const record = storage.getStatus(NAME)
          if (record === null) {
            // Absent is code 0; anything else that reads as absent was reported.
            if (code !== 0) expect(reports.map((report) => report.error.code)).toEqual(['ERR_STORAGE_CORRUPT'])
          } else {
            expect('record' in decodeStatus(record)).toBe(true)
            for (const value of [record.epoch, record.updatedAt, record.openedAt ?? 0]) expect(Number.isFinite(value)).toBe(true)
            expect(record.backoff).toBe(backoff === 0 ? undefined : backoff)
            expect(record.holds).toBe(holds === 0 ? undefined : holds)
          }
          // A compare-and-set over a corrupt record treats it as absent (epoch 0), and never throws.
          const expected = record?.epoch ?? 0
          expect(storage.compareAndSetStatus(NAME, expected, { status: 'closed', openedAt: null, epoch: expected + 1, updatedAt: NOW })).toBe(true)
        } finally {
          void storage.close()
        }
      }),
      { numRuns: 300 },
    )
  })

  it('a watcher seeing another process leave arbitrary bytes pushes a valid record or a resync, nothing else', async () => {
    const storage = handle()
    const notices: unknown[] = []
    const stop = storage.subscribe!((notice) => notices.push(notice))
    try {
      await fc.assert(
        fc.asyncProperty(int32, anyDouble, anyDouble, anyDouble, counter, counter, async (code, epoch, openedAt, updatedAt, backoff, holds) => {
          const version = (Atomics.load(i32(), (slot + S.STATUS_VERSION) >> 2) + 1) | 0
          const at = slot + S.STATUS + (version & 1) * STATUS_RECORD_BYTES
          writeRaw(at, code, [epoch, openedAt, updatedAt, backoff, holds])
          Atomics.store(i32(), (slot + S.STATUS_VERSION) >> 2, version)
          Atomics.add(i32(), H.STATUS_CHANGES, 1)
          notices.length = 0
          await new Promise((resolve) => setTimeout(resolve, 25))
          expect(notices).toHaveLength(1)
          const notice = notices[0] as { circuit: string; record?: unknown; resync?: true }
          expect(notice.circuit).toBe(NAME)
          if (notice.resync !== true) expect('record' in decodeStatus(notice.record)).toBe(true)
        }),
        { numRuns: 40 },
      )
    } finally {
      stop()
      void storage.close()
    }
  })
})

describe('status slots round-trip every valid record', () => {
  it('another handle on the segment reads, and its watcher pushes, exactly what was written, backoff and holds included', async () => {
    const writer = handle()
    const reader = handle()
    const pushed: StatusRecord[] = []
    const stop = reader.subscribe!((notice) => {
      if (notice.resync !== true) pushed.push(notice.record)
    })
    try {
      await fc.assert(
        fc.asyncProperty(validRecord, async (record) => {
          pushed.length = 0
          writer.setStatus(NAME, record)
          expect(reader.getStatus(NAME)).toEqual(minimal(record))
          for (let i = 0; i < 100 && pushed.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
          expect(pushed).toEqual([minimal(record)])
        }),
        { numRuns: 40 },
      )
    } finally {
      stop()
      void writer.close()
      void reader.close()
    }
  })
})

describe('counter buckets hold arbitrary words', () => {
  it('counts are safe integers >= 0 whatever the buckets hold, and recording on top never throws', () => {
    fc.assert(
      fc.property(fc.array(int32, { minLength: BUCKETS * 4, maxLength: BUCKETS * 4 }), fc.integer({ min: 1, max: 60_000 }), (words, windowMs) => {
        const base = (slot + layout.bucketsOffset) >> 2
        words.forEach((word, i) => (i32()[base + i] = word))
        // Half the stamps on seconds the window covers, so garbage counts are summed too.
        for (let i = 0; i < BUCKETS * 2; i += 2) if (i % 4 === 0) i32()[base + i * 2 + 1] = Math.floor(NOW / 1000) - (i >> 2) + 1
        const storage = handle()
        try {
          expectSafeCount(storage.failureCount(NAME, windowMs))
          expectSafeCount(storage.successCount(NAME, windowMs))
          const counts = storage.record(NAME, 'failure', 0, windowMs)
          expectSafeCount(counts.failures)
          expectSafeCount(counts.successes)
          const batch = storage.recordBatch(NAME, { failures: 2 ** 40, successes: 3 }, windowMs)
          expectSafeCount(batch.failures)
          expectSafeCount(batch.successes)
        } finally {
          void storage.close()
        }
      }),
      { numRuns: 200 },
    )
  })
})

describe('probe lease cells hold arbitrary bytes', () => {
  it('acquireProbe answers null or a permit with a finite expiry, never throws', () => {
    fc.assert(
      fc.property(int32, fc.array(fc.tuple(int32, anyDouble), { minLength: LEASES, maxLength: LEASES }), (sequence, cells) => {
        i32()[(slot + S.LEASE_SEQUENCE) >> 2] = sequence
        cells.forEach(([id, expiresAt], cell) => {
          const at = slot + S.LEASES + cell * LEASE_BYTES
          i32()[(at + L.ID) >> 2] = id
          f64()[(at + L.EXPIRES_AT) >> 3] = expiresAt
        })
        const storage = handle()
        try {
          const lease = storage.acquireProbe!(NAME, LEASES, 1_000)
          if (lease !== null) {
            expect(lease.expiresAt).toBe(NOW + 1_000)
            expect(lease.id).not.toBe('0')
            lease.release()
          }
        } finally {
          void storage.close()
        }
      }),
      { numRuns: 200 },
    )
  })
})

describe('headers hold arbitrary words', () => {
  it('opening answers a working storage or throws a StorageError, and never wipes a segment it refused', () => {
    const own = freshPath()
    const sizes = { slots: SLOTS, bucketCount: BUCKETS, leasesPerCircuit: LEASES }
    const first = freshStorage({ path: own, ...sizes })
    first.recordFailure('kept', 1)
    const { shmid } = first.info()
    const valid = addon.shmAttach(shmid)
    const header = Array.from(new Int32Array(valid, 0, HEADER_BYTES / 4))
    addon.shmDetach(valid)
    void first.close()
    const word = fc.integer({ min: 0, max: HEADER_BYTES / 4 - 1 })
    // Wholly arbitrary headers, and valid ones with a few words changed (the READY word among them or not).
    const headers = fc.oneof(
      fc.array(int32, { minLength: HEADER_BYTES / 4, maxLength: HEADER_BYTES / 4 }),
      fc.array(fc.tuple(word, int32), { minLength: 1, maxLength: 4 }).map((changes) => {
        const words = [...header]
        for (const [at, value] of changes) words[at] = value
        return words
      }),
    )
    fc.assert(
      fc.property(headers, (words) => {
        const buffer = addon.shmAttach(shmid)
        const view = new Int32Array(buffer)
        words.forEach((word, i) => (view[i] = word))
        const before = Buffer.from(new Uint8Array(buffer)).toString('base64')
        addon.shmDetach(buffer)
        let storage: SysVStorage | undefined
        try {
          storage = new SysVStorage({ path: own, ...sizes })
        } catch (error) {
          expect(isStorageError(error)).toBe(true)
          const after = addon.shmAttach(shmid)
          expect(Buffer.from(new Uint8Array(after)).toString('base64')).toBe(before)
          addon.shmDetach(after)
          return
        }
        expect(storage.failureCount('kept', 60_000)).toBeGreaterThanOrEqual(0)
        void storage.close()
      }),
      { numRuns: 200 },
    )
  })
})
