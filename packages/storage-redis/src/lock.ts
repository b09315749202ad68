import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TransitionMessage } from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'
import { checkClient, checkPrefix, milliseconds } from './checks.js'
import { guard, timeoutError } from './errors.js'
import { circuitKeys } from './keys.js'
import { evalScript, luaScript } from './scripts.js'

// Deletes the lock only while it still holds our token: a lock that lapsed and was taken by
// another instance is theirs, and must survive our late release.
const RELEASE = luaScript('lock.release', `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, false)

/** Options of {@link redisLock}. */
export interface RedisLockOptions {
  /** Key namespace, the same as the storage's; default `'breaker'`. */
  readonly prefix?: string
  /** How long a lock lives if its holder never releases it (ms); default 5 000. */
  readonly ttl?: number
  /** How long `acquire` keeps trying before it gives up (ms); default 1 000. */
  readonly wait?: number
  /** Pause between attempts (ms); default 25. */
  readonly retryDelay?: number
}

/** Gives a held lock back; safe to call more than once. */
export type LockRelease = () => Promise<void>

/** A distributed mutex per circuit, for the seed's pessimistic synchronisation. */
export interface RedisLock {
  /**
   * Takes the circuit's lock, waiting at most `wait` ms; answers its release.
   * @throws StorageTimeoutError when the lock stayed taken for `wait` ms; StorageError when Redis fails.
   */
  acquire(circuit: string): Promise<LockRelease>
  /** Runs `fn` holding the circuit's lock, and releases it however `fn` ends. */
  withLock<T>(circuit: string, fn: () => T | Promise<T>): Promise<T>
  /**
   * A `beforeTransition` hook: takes the lock and answers its release, which the circuit calls
   * as soon as the transition is written, so the lock covers the transition and never the
   * protected call that follows it.
   */
  readonly beforeTransition: (event: TransitionMessage) => Promise<LockRelease>
}

/**
 * Builds a lock helper on `client`: SET NX PX with a random token per holder, released by a
 * compare-and-delete, acquisition bounded by `wait`.
 *
 * @example
 * const lock = redisLock(redis, { ttl: 2_000, wait: 500 })
 * new Circuit('payments', { storage, on: { beforeTransition: lock.beforeTransition } })
 * @throws ConfigurationError on a bad option.
 */
export function redisLock(client: Redis | Cluster, options: RedisLockOptions = {}): RedisLock {
  checkClient('client', client)
  const prefix = checkPrefix(options.prefix)
  const ttl = Math.ceil(milliseconds('ttl', options.ttl, 5_000))
  const wait = milliseconds('wait', options.wait, 1_000)
  const retryDelay = milliseconds('retryDelay', options.retryDelay, 25)

  const release = (key: string, token: string, circuit: string): LockRelease => {
    let done: Promise<void> | undefined
    return () =>
      (done ??= guard(
        () => evalScript(client, RELEASE, [key], [token]),
        'lock.release',
        circuit,
        wait,
      ).then(() => {}))
  }

  const acquire = async (circuit: string): Promise<LockRelease> => {
    const key = circuitKeys(prefix, circuit).lock
    const token = randomUUID()
    const deadline = Date.now() + wait
    for (;;) {
      const answer = await guard(() => client.set(key, token, 'PX', ttl, 'NX'), 'lock.acquire', circuit, wait)
      if (answer === 'OK') return release(key, token, circuit)
      const left = deadline - Date.now()
      if (left <= 0) throw timeoutError('lock.acquire', wait, circuit, new Error(`lock '${key}' stayed taken for ${wait} ms`))
      await sleep(Math.min(retryDelay, left))
    }
  }

  return {
    acquire,
    async withLock<T>(circuit: string, fn: () => T | Promise<T>): Promise<T> {
      const done = await acquire(circuit)
      try {
        return await fn()
      } finally {
        await done().catch(() => {})
      }
    },
    beforeTransition: (event: TransitionMessage) => acquire(event.circuit),
  }
}
