import type { StatusChange, StatusRecord } from '@breaker/core'
import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'

/** The optional counters a status may carry; absent means 0. */
const COUNTERS = ['backoff', 'holds'] as const

/**
 * Checks that `record` has no `backoff` or `holds` key at all: a record written without them
 * reads back without them (never `backoff: 0`), so records stay minimal and compare equal.
 */
function expectNoCounters(env: CheckEnv, record: StatusRecord | null | undefined): void {
  env.expect(record).not.toBeNull()
  const present = COUNTERS.filter((field) => record !== null && record !== undefined && Object.hasOwn(record, field))
  env.expect(present).toEqual([])
}

/** Collects the pushes of one circuit. */
function listen(env: CheckEnv, circuit: string): { changes: StatusChange[]; stop: () => void } {
  const changes: StatusChange[] = []
  const stop = env.storage.subscribe!((notice) => {
    if (notice.resync !== true && notice.circuit === circuit) changes.push(notice)
  })
  return { changes, stop }
}

/**
 * The optional `backoff` (reopenings since the circuit last closed, the exponent of
 * `resetBackoff`) and `holds` (isolation holds in force) of a status record: a shared storage
 * must keep them through every status path, or instances disagree on the reset delay and on
 * whether an isolated circuit is held open.
 */
export const counterChecks: readonly ConformanceCheck[] = [
  {
    group: 'status counters',
    title: 'getStatus answers backoff and holds exactly as setStatus wrote them',
    requires: ['persistent'],
    async run({ storage, expect, circuit, status, advance }) {
      const both = circuit('both')
      const backoffOnly = circuit('backoff')
      const holdsOnly = circuit('holds')
      const bothRecord = status('open', 5, { backoff: 3, holds: 2 })
      advance(7)
      const backoffRecord = status('half_open', 9, { backoff: 70_000 })
      const holdsRecord = status('open', 2, { holds: 1 })
      await storage.setStatus(both, bothRecord)
      await storage.setStatus(backoffOnly, backoffRecord)
      await storage.setStatus(holdsOnly, holdsRecord)
      expect(await storage.getStatus(both)).toEqual(bothRecord)
      expect(await storage.getStatus(backoffOnly)).toEqual(backoffRecord)
      expect(await storage.getStatus(holdsOnly)).toEqual(holdsRecord)
    },
  },
  {
    group: 'status counters',
    title: 'a record written without backoff and holds reads back without them (no backoff: 0 added), even over one that had them',
    requires: ['persistent'],
    async run(env) {
      const fresh = env.circuit('fresh')
      const overwritten = env.circuit('overwritten')
      const plain = env.status('open', 1)
      await env.storage.setStatus(fresh, plain)
      const read = await env.storage.getStatus(fresh)
      env.expect(read).toEqual(plain)
      expectNoCounters(env, read)
      await env.storage.setStatus(overwritten, env.status('open', 4, { backoff: 3, holds: 2 }))
      env.advance(1_000)
      const closed = env.status('closed', 5)
      await env.storage.setStatus(overwritten, closed)
      const after = await env.storage.getStatus(overwritten)
      env.expect(after).toEqual(closed)
      expectNoCounters(env, after)
    },
  },
  {
    group: 'status counters',
    title: 'compareAndSetStatus writes backoff and holds as given, and a record without them clears them',
    requires: ['persistent', 'cas'],
    async run(env) {
      const name = env.circuit()
      const cas = (expected: number, record: StatusRecord) => env.storage.compareAndSetStatus!(name, expected, record)
      const first = env.status('open', 1, { backoff: 3, holds: 2 })
      env.expect(await cas(0, first)).toBe(true)
      env.expect(await env.storage.getStatus(name)).toEqual(first)
      env.advance(500)
      const second = env.status('half_open', 2, { backoff: 4 })
      env.expect(await cas(1, second)).toBe(true)
      env.expect(await env.storage.getStatus(name)).toEqual(second)
      env.advance(500)
      const closed = env.status('closed', 3)
      env.expect(await cas(2, closed)).toBe(true)
      const read = await env.storage.getStatus(name)
      env.expect(read).toEqual(closed)
      expectNoCounters(env, read)
      // A failed CAS leaves the stored counters alone too.
      env.expect(await cas(1, env.status('open', 4, { backoff: 9, holds: 9 }))).toBe(false)
      expectNoCounters(env, await env.storage.getStatus(name))
    },
  },
  {
    group: 'status counters',
    title: 'pushes carry backoff and holds as written by setStatus, and none when the record has none',
    requires: ['subscribe'],
    async run(env) {
      const name = env.circuit()
      const { changes, stop } = listen(env, name)
      try {
        const held = env.status('open', 1, { backoff: 3, holds: 2 })
        await env.storage.setStatus(name, held)
        env.advance(10)
        const plain = env.status('closed', 2)
        await env.storage.setStatus(name, plain)
        await env.waitFor(() => changes.length >= 2, 'two status changes')
        env.expect(changes).toEqual([
          { circuit: name, record: held },
          { circuit: name, record: plain },
        ])
        expectNoCounters(env, changes[1]?.record)
      } finally {
        stop()
      }
    },
  },
  {
    group: 'status counters',
    title: 'pushes carry backoff and holds as written by a successful compareAndSetStatus',
    requires: ['subscribe', 'cas'],
    async run(env) {
      const name = env.circuit()
      const { changes, stop } = listen(env, name)
      try {
        const record = env.status('open', 1, { backoff: 3, holds: 2 })
        env.expect(await env.storage.compareAndSetStatus!(name, 0, record)).toBe(true)
        await env.waitFor(() => changes.length >= 1, 'the status change of a successful CAS')
        env.expect(changes).toEqual([{ circuit: name, record }])
      } finally {
        stop()
      }
    },
  },
]
