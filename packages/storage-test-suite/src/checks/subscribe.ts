import type { StatusChange, StorageNotice } from '@breaker/core'
import type { ConformanceCheck } from '../check.js'
import type { CheckEnv } from '../environment.js'

/** Collects the changes of one circuit (a shared backend may carry other circuits' too). */
function listen(env: CheckEnv, circuit: string): { changes: StatusChange[]; stop: () => void } {
  const changes: StatusChange[] = []
  const stop = env.storage.subscribe!((notice) => {
    if (notice.resync !== true && notice.circuit === circuit) changes.push(notice)
  })
  return { changes, stop }
}

/** Every notice, for checks about resync notices. */
function listenAll(env: CheckEnv): { notices: StorageNotice[]; stop: () => void } {
  const notices: StorageNotice[] = []
  const stop = env.storage.subscribe!((notice) => void notices.push(notice))
  return { notices, stop }
}

/** True for a notice that makes a listener re-read `circuit`: a resync for it or for every circuit, or a status of it. */
function concerns(notice: StorageNotice, circuit: string): boolean {
  return notice.resync === true ? notice.circuit === undefined || notice.circuit === circuit : notice.circuit === circuit
}

/** Pushed status changes. Deliveries may be asynchronous, so checks poll (bounded, ~2 s). */
export const subscribeChecks: readonly ConformanceCheck[] = [
  {
    group: 'subscribe',
    title: 'a listener receives every setStatus write with its circuit and record',
    requires: ['subscribe'],
    async run(env) {
      const name = env.circuit()
      const { changes, stop } = listen(env, name)
      try {
        const first = env.status('open', 1)
        await env.storage.setStatus(name, first)
        env.advance(10)
        const second = env.status('half_open', 2)
        await env.storage.setStatus(name, second)
        await env.waitFor(() => changes.length >= 2, 'two status changes')
        env.expect(changes).toEqual([
          { circuit: name, record: first },
          { circuit: name, record: second },
        ])
      } finally {
        stop()
      }
    },
  },
  {
    group: 'subscribe',
    title: 'a listener receives every successful compareAndSetStatus write',
    requires: ['subscribe', 'cas'],
    async run(env) {
      const name = env.circuit()
      const { changes, stop } = listen(env, name)
      try {
        const record = env.status('open', 1)
        env.expect(await env.storage.compareAndSetStatus!(name, 0, record)).toBe(true)
        await env.waitFor(() => changes.length >= 1, 'the status change of a successful CAS')
        env.expect(changes).toEqual([{ circuit: name, record }])
      } finally {
        stop()
      }
    },
  },
  {
    group: 'subscribe',
    title: 'a failed compareAndSetStatus pushes nothing',
    requires: ['subscribe', 'cas'],
    async run(env) {
      const name = env.circuit()
      const stored = env.status('open', 3)
      await env.storage.setStatus(name, stored)
      const { changes, stop } = listen(env, name)
      try {
        env.expect(await env.storage.compareAndSetStatus!(name, 1, env.status('closed', 2))).toBe(false)
        // A later write is the marker: once it arrives, anything the failed CAS pushed would have too.
        const marker = env.status('half_open', 4)
        await env.storage.setStatus(name, marker)
        await env.waitFor(() => changes.some((change) => change.record.epoch === 4), 'the marker status change')
        env.expect(changes).toEqual([{ circuit: name, record: marker }])
      } finally {
        stop()
      }
    },
  },
  {
    group: 'subscribe',
    title: 'unsubscribe stops delivery to that listener only',
    requires: ['subscribe'],
    async run(env) {
      const name = env.circuit()
      const gone = listen(env, name)
      const kept = listen(env, name)
      try {
        gone.stop()
        await env.storage.setStatus(name, env.status('open', 1))
        await env.waitFor(() => kept.changes.length >= 1, 'delivery to the remaining listener')
        env.expect(gone.changes).toHaveLength(0)
      } finally {
        kept.stop()
      }
    },
  },
  {
    group: 'subscribe',
    title: 'a listener that throws neither fails the write nor stops delivery to others',
    requires: ['subscribe'],
    async run(env) {
      const name = env.circuit()
      const stopThrowing = env.storage.subscribe!(() => {
        throw new Error('listener failure (expected by the conformance suite)')
      })
      const kept = listen(env, name)
      try {
        const record = env.status('open', 1)
        await env.storage.setStatus(name, record)
        await env.waitFor(() => kept.changes.length >= 1, 'delivery despite a throwing listener')
        env.expect(kept.changes).toEqual([{ circuit: name, record }])
      } finally {
        stopThrowing()
        kept.stop()
      }
    },
  },
  {
    group: 'subscribe',
    title: 'clear of a circuit tells listeners: { resync: true, circuit } (or a resync of every circuit, or a status)',
    requires: ['persistent', 'subscribe'],
    async run(env) {
      const name = env.circuit()
      const { changes, stop: stopChanges } = listen(env, name)
      const { notices, stop } = listenAll(env)
      try {
        await env.storage.setStatus(name, env.status('open', 1))
        await env.waitFor(() => changes.length >= 1, 'the status change before the clear')
        const before = notices.length
        await env.storage.clear(name)
        await env.waitFor(() => notices.slice(before).some((notice) => concerns(notice, name)), 'a notice of the clear')
      } finally {
        stop()
        stopChanges()
      }
    },
  },
  {
    group: 'subscribe',
    title: 'clearAll tells listeners with a resync notice',
    requires: ['persistent', 'subscribe'],
    async run(env) {
      const name = env.circuit()
      const { changes, stop: stopChanges } = listen(env, name)
      const { notices, stop } = listenAll(env)
      try {
        await env.storage.setStatus(name, env.status('open', 1))
        await env.waitFor(() => changes.length >= 1, 'the status change before clearAll')
        const before = notices.length
        await env.storage.clearAll()
        await env.waitFor(() => notices.slice(before).some((notice) => notice.resync === true && concerns(notice, name)), 'a resync notice of clearAll')
      } finally {
        stop()
        stopChanges()
      }
    },
  },
]
