import { randomUUID } from 'node:crypto'
import { StatusListeners } from '@breaker/core/kit'
import type { StatusListener } from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'
import { decodeMessage } from './status-codec.js'

/** Options of {@link StatusSubscription}. */
export interface StatusSubscriptionOptions {
  /** The user's client, duplicated for a dedicated subscriber connection when `subscriber` is absent. */
  readonly client: Redis | Cluster
  /** A subscriber connection the user owns (never closed by us). */
  readonly subscriber: Redis | Cluster | undefined
  /** Channel of status writes. */
  readonly channel: string
  /** A failure with no caller to tell (connection, throwing listener), with the circuit concerned if any. */
  readonly onError: (error: unknown, operation: string, circuit?: string) => void
  /** A message on the channel that is not one of ours. */
  readonly onCorrupt: (problem: string, raw: unknown, circuit: string | undefined) => void
}

/** ioredis's `ClusterSubscriber`: not in its public types, present in ioredis 5 and 6. */
interface ClusterSubscriberLike {
  getInstance(): Redis | null
}

// While a Cluster has no subscriber node to move to, look again this often (ms). It runs only
// during such a gap, never per call.
const RETRY_MS = 200

/**
 * The pub/sub side of a RedisStorage: one dedicated connection (a subscribed connection can run
 * nothing else) and the listeners. It keeps no status of its own: it pushes each status write,
 * and a resync notice whenever pushes may have been missed — when the connection drops, and
 * again once the channel is subscribed after a (re)connect or after a Redis Cluster moved the
 * subscriber to another node. After the second notice every circuit re-reads, so a trip made
 * while the channel was down is seen at once.
 */
export class StatusSubscription {
  readonly #listeners = new StatusListeners()
  readonly #options: StatusSubscriptionOptions
  #connection: Redis | Cluster | undefined
  #live = false
  // Bumped by every gap and every new subscription attempt: a SUBSCRIBE answered after a newer
  // gap must not declare the channel live.
  #attempt = 0
  // Resolved the first time the channel is live (or on close): a first status write waits for it.
  #firstLive: Promise<void> | undefined
  #wentLive: (() => void) | undefined
  #watched: Redis | undefined
  #unwatch: (() => void) | undefined
  #retry: ReturnType<typeof setTimeout> | undefined
  #detach: Array<() => void> = []
  // Our own status writes whose message has not come back yet: sequence number → wake-up.
  readonly #echoes = new Map<number, () => void>()
  #sequence = 0
  /** Names this storage instance in the messages it publishes. */
  readonly origin = randomUUID()

  constructor(options: StatusSubscriptionOptions) {
    this.#options = options
  }

  /** True while the channel is subscribed on a live connection: pushes are arriving. */
  get live(): boolean {
    return this.#live
  }

  /** Opens the connection and subscribes, once; later calls do nothing. */
  start(): void {
    if (this.#connection) return
    const { client, subscriber, channel } = this.#options
    const connection = subscriber ?? (client.isCluster ? (client as Cluster).duplicate() : (client as Redis).duplicate())
    this.#connection = connection
    const on = (event: string, handler: (...args: any[]) => void) => {
      connection.on(event, handler)
      this.#detach.push(() => connection.off(event, handler))
    }
    // With our 'error' listener ioredis prints nothing, and nothing can take the process down.
    on('error', (error: unknown) => this.#options.onError(error, 'subscribe'))
    on('message', (from: string, raw: unknown) => {
      if (from === channel) this.#receive(raw)
    })
    if (!connection.isCluster) {
      on('close', () => this.#gap())
      // ioredis resubscribes by itself on reconnect; our SUBSCRIBE, queued behind its own,
      // answers once the channel is live again.
      on('ready', () => this.#subscribe())
    }
    this.#firstLive = new Promise((resolve) => (this.#wentLive = resolve))
    void this.#subscribe()
  }

  /**
   * Until the channel is first live, a promise for that moment (never rejecting): a status
   * write waits for it (bounded) so that this process's own listeners hear of the write.
   */
  whenSubscribed(): Promise<void> | undefined {
    return this.#wentLive ? this.#firstLive : undefined
  }

  /** Adds a listener (starting the connection if needed); answers its removal. A listener that throws is reported. */
  add(listener: StatusListener): () => void {
    this.start()
    return this.#listeners.add((notice) => {
      try {
        listener(notice)
      } catch (error) {
        this.#options.onError(error, 'subscribe', notice.circuit)
      }
    })
  }

  /** A sequence number for the message of a status write about to be made. */
  nextSequence(): number {
    return ++this.#sequence
  }

  /**
   * Waits (at most `timeoutMs`) until the message of our write `n` is back and every listener
   * heard it, so that when a write resolves this process's listeners know of it, and a listener
   * added afterwards never hears of it late (on a Cluster, messages cross the cluster bus).
   * Answers `undefined`, adding no wait, while the channel is not live.
   */
  echo(n: number, timeoutMs: number): Promise<void> | undefined {
    if (!this.#live) return undefined
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#echoes.delete(n)
        resolve()
      }, timeoutMs)
      this.#echoes.set(n, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Our write `n` published nothing (a lost compare-and-set, an error): stop waiting for it. */
  settled(n: number): void {
    const wake = this.#echoes.get(n)
    this.#echoes.delete(n)
    wake?.()
  }

  #wakeAll(): void {
    const wakes = [...this.#echoes.values()]
    this.#echoes.clear()
    for (const wake of wakes) wake()
  }

  /** Tells this process's listeners that `circuit`'s status was removed (or every status). */
  resync(circuit?: string): void {
    this.#listeners.resync(circuit)
  }

  /** Closes the connection if we opened it; a user-owned subscriber is only unsubscribed. */
  async close(): Promise<void> {
    const connection = this.#connection
    this.#connection = undefined
    this.#live = false
    this.#attempt++
    this.#unwatch?.()
    if (this.#retry !== undefined) clearTimeout(this.#retry)
    for (const detach of this.#detach.splice(0)) detach()
    this.#wakeAll()
    this.#wentLive?.()
    this.#wentLive = undefined
    if (!connection) return
    if (this.#options.subscriber) await connection.unsubscribe(this.#options.channel).catch(() => {})
    else connection.disconnect()
  }

  #subscribe(): Promise<void> {
    const connection = this.#connection
    if (!connection) return Promise.resolve()
    const attempt = ++this.#attempt
    // On a Cluster, watch the node connection that will carry the subscription before asking,
    // so that losing it — however ioredis replaces it — is noticed.
    if (connection.isCluster) this.#watch(connection as Cluster)
    return connection.subscribe(this.#options.channel).then(
      () => {
        if (attempt !== this.#attempt || this.#connection !== connection) return
        if (connection.isCluster) {
          // The subscriber moved while we asked: subscribe on the new one.
          const now = subscriberOf(connection as Cluster)
          if (now !== undefined && now !== this.#watched) return void this.#subscribe()
        } else if (connection.status !== 'ready') return
        this.#live = true
        this.#listeners.resync()
        this.#wentLive?.()
        this.#wentLive = undefined
      },
      (error: unknown) => {
        if (attempt !== this.#attempt || this.#connection !== connection) return
        this.#options.onError(error, 'subscribe')
        if (connection.isCluster) this.#retryLater()
      },
    )
  }

  /** Listens on the Cluster's current subscriber node connection, which the Cluster object does not report on. */
  #watch(cluster: Cluster): void {
    const instance = subscriberOf(cluster)
    if (instance === this.#watched) return
    this.#unwatch?.()
    this.#watched = instance ?? undefined
    this.#unwatch = undefined
    if (!instance) return
    const onClose = () => this.#gap()
    // ioredis picks a new node on 'end' (its own listener runs first), so by now it is there.
    const onEnd = () => {
      if (this.#watched !== instance) return
      this.#unwatch?.()
      this.#watched = undefined
      this.#gap()
      this.#retryLater(0)
    }
    instance.on('close', onClose)
    instance.once('end', onEnd)
    this.#unwatch = () => {
      instance.off('close', onClose)
      instance.off('end', onEnd)
    }
  }

  #retryLater(delay = RETRY_MS): void {
    if (this.#retry !== undefined || !this.#connection) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      if (this.#connection) void this.#subscribe()
    }, delay)
  }

  /** Pushes may be missed from now on: say so once, and void subscriptions still in flight. */
  #gap(): void {
    this.#attempt++
    if (!this.#live) return
    this.#live = false
    this.#wakeAll()
    this.#listeners.resync()
  }

  #receive(raw: unknown): void {
    const decoded = decodeMessage(raw)
    if ('corrupt' in decoded) {
      this.#options.onCorrupt(decoded.corrupt, raw, decoded.circuit)
      // What that circuit's status is now is unknown: its circuits read it again, validated.
      if (decoded.circuit !== undefined) this.#listeners.resync(decoded.circuit)
      return
    }
    const notice = decoded.notice
    if (notice.resync) this.#listeners.resync(notice.circuit)
    else this.#listeners.notify(notice.circuit, notice.record)
    if (decoded.origin === this.origin && decoded.sequence !== undefined) this.settled(decoded.sequence)
  }
}

/** The node connection a Cluster subscribes on right now, or `undefined` when ioredis keeps it elsewhere. */
function subscriberOf(cluster: Cluster): Redis | null | undefined {
  const subscriber = (cluster as unknown as { subscriber?: Partial<ClusterSubscriberLike> }).subscriber
  return typeof subscriber?.getInstance === 'function' ? subscriber.getInstance() : undefined
}
