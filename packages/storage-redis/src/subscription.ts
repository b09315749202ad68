import { randomUUID } from 'node:crypto'
import type { StatusListener, StatusRecord, StorageError } from '@breaker/core'
import type { Cluster, Redis } from 'ioredis'
import { toStorageError } from './errors.js'
import { decodeMessage } from './status-codec.js'

/** Options of {@link StatusSubscription}. */
export interface StatusSubscriptionOptions {
  /** The user's client, duplicated for a dedicated subscriber connection when `subscriber` is absent. */
  readonly client: Redis | Cluster
  /** A subscriber connection the user owns (never closed by us). */
  readonly subscriber: Redis | Cluster | undefined
  /** Channel of status writes. */
  readonly channel: string
  /** Keep a mirror of the statuses seen, for `getStatus` without a round trip. */
  readonly mirror: boolean
  /** Receives errors that have no caller to reject: connection failures, bad messages, throwing listeners. */
  readonly onError: (error: StorageError) => void
}

/**
 * The pub/sub side of a RedisStorage: one dedicated connection (a subscribed Redis
 * connection can run nothing else), the listeners, and optionally a mirror of every status
 * this process has seen, kept fresh by the channel.
 */
export class StatusSubscription {
  private readonly listeners = new Set<StatusListener>()
  private readonly mirror = new Map<string, StatusRecord | null>()
  private connection: Redis | Cluster | undefined
  private subscribed = false
  private subscribing: Promise<void> | undefined
  // Bumped by every invalidation. A read fills the mirror only if no invalidation happened
  // while it was in flight, so a late reply can never overwrite what the channel said since.
  private generation = 0
  // Our own status writes whose message has not come back yet: circuit → their sequence numbers.
  // The mirror is not trusted for such a circuit, since older messages may still be arriving.
  private readonly pending = new Map<string, Set<number>>()
  // The newest epoch the server itself has shown us per circuit (a read, a lost compare-and-set).
  // Pub/sub messages travel on another connection than replies, so an older message can still
  // arrive after such a reply; the mirror answers nothing older than this floor.
  private readonly floors = new Map<string, number>()
  private sequence = 0
  // Writes of ours waiting for their own message: sequence number → wake-up.
  private readonly echoes = new Map<number, () => void>()
  /** Names this storage instance in the messages it publishes. */
  readonly origin = randomUUID()

  constructor(private readonly options: StatusSubscriptionOptions) {}

  /** Opens the connection and subscribes, once; later calls do nothing. */
  start(): void {
    if (this.connection) return
    const { client, subscriber, channel } = this.options
    const connection = subscriber ?? (client.isCluster ? (client as Cluster).duplicate() : (client as Redis).duplicate())
    this.connection = connection
    // An 'error' event without a listener would be printed by ioredis; with ours it is
    // reported instead and can never take the process down.
    connection.on('error', (error: unknown) => this.report(error, 'subscribe'))
    // Whatever was mirrored may have missed messages while the connection was down.
    connection.on('close', () => {
      this.subscribed = false
      this.forget()
      this.wakeAll()
    })
    // On every (re)connection, ioredis resubscribes by itself; our own SUBSCRIBE queued behind
    // it answers only once the channel is live again, and only then is the mirror trusted.
    connection.on('ready', () => {
      this.forget()
      if (!this.subscribing) this.subscribe(connection)
    })
    connection.on('message', (from: string, raw: string) => {
      if (from === channel) this.receive(raw)
    })
    this.subscribe(connection)
  }

  private subscribe(connection: Redis | Cluster): void {
    this.subscribing = connection.subscribe(this.options.channel).then(
      () => {
        this.subscribing = undefined
        if (this.connection === connection && connection.status === 'ready') this.subscribed = true
      },
      (error: unknown) => {
        this.subscribing = undefined
        this.report(error, 'subscribe')
      },
    )
  }

  /**
   * While the first SUBSCRIBE is in flight, a promise for its end (it never rejects): a write
   * waits for it so that its own listeners hear of it. Otherwise `undefined`, so a write adds no wait.
   */
  ready(): Promise<void> | undefined {
    return this.subscribing
  }

  /**
   * Announces a status write of ours on `circuit`; answers its sequence number for the message.
   * Until that message comes back (or {@link settled} says none will), reads go to the server.
   */
  writing(circuit: string): number {
    const n = ++this.sequence
    this.forget(circuit)
    if (this.subscribed) this.echoes.set(n, () => {})
    if (this.options.mirror) {
      const waiting = this.pending.get(circuit)
      if (waiting) waiting.add(n)
      else this.pending.set(circuit, new Set([n]))
    }
    return n
  }

  /** Our write `n` is accounted for: its message came back, or it published nothing (a lost CAS, an error). */
  settled(circuit: string, n: number): void {
    const waiting = this.pending.get(circuit)
    if (waiting?.delete(n) && waiting.size === 0) this.pending.delete(circuit)
    const wake = this.echoes.get(n)
    this.echoes.delete(n)
    wake?.()
  }

  /**
   * Waits (at most `timeoutMs`) until the message of our write `n` has come back and every
   * listener heard it, so that when a write resolves this process's listeners already know,
   * and a listener added afterwards never hears of it late. Answers `undefined` when there is
   * nothing to wait for: no subscription at write time, or the message is already here.
   */
  echo(n: number, timeoutMs: number): Promise<void> | undefined {
    if (!this.echoes.has(n)) return undefined
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.echoes.delete(n)
        resolve()
      }, timeoutMs)
      this.echoes.set(n, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  private wakeAll(): void {
    const wakes = [...this.echoes.values()]
    this.echoes.clear()
    for (const wake of wakes) wake()
  }

  /** A ticket for a read about to be issued; hand it back to {@link observe}. */
  ticket(): number {
    return this.generation
  }

  /** Adds a listener (starting the connection if needed); answers its removal. */
  add(listener: StatusListener): () => void {
    this.start()
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /**
   * The mirrored status of `circuit`, or `undefined` when it cannot be trusted: no mirror,
   * not subscribed right now, or never seen since the connection was last (re)established.
   */
  mirrored(circuit: string): StatusRecord | null | undefined {
    if (!this.options.mirror || !this.subscribed || this.connection?.status !== 'ready') return undefined
    if (this.pending.has(circuit)) return undefined
    const record = this.mirror.get(circuit)
    const floor = this.floors.get(circuit)
    if (floor === undefined || record === undefined) return record
    if ((record?.epoch ?? 0) < floor) return undefined
    // The channel has caught up with what the server showed: the floor has done its job.
    this.floors.delete(circuit)
    return record
  }

  /**
   * The server answered `record` for `circuit` (a read, or the status that beat a lost
   * compare-and-set): the mirror may not answer anything older from now on.
   */
  saw(circuit: string, record: StatusRecord | null): void {
    if (!this.options.mirror || record === null) return
    const floor = this.floors.get(circuit) ?? 0
    if (record.epoch > floor) this.floors.set(circuit, record.epoch)
  }

  /**
   * Feeds the mirror a status read from the server. It only fills a gap, and only when nothing
   * was invalidated since `ticket` was taken: what the channel pushed is always newer.
   */
  observe(circuit: string, record: StatusRecord | null, ticket: number): void {
    if (!this.options.mirror || !this.subscribed || ticket !== this.generation) return
    if (!this.mirror.has(circuit)) this.mirror.set(circuit, record)
  }

  /**
   * Drops what the mirror knows of one circuit (or of every circuit) and voids reads in flight.
   * Called before this process writes a status: until its own message comes back on the
   * channel, reads of that circuit go to the server.
   */
  forget(circuit?: string): void {
    this.generation++
    if (circuit === undefined) {
      this.mirror.clear()
      this.pending.clear()
      this.floors.clear()
    } else this.mirror.delete(circuit)
  }

  /** Closes the connection if we opened it; a user-owned subscriber is only unsubscribed. */
  async close(): Promise<void> {
    const connection = this.connection
    this.connection = undefined
    this.subscribed = false
    this.listeners.clear()
    this.mirror.clear()
    this.floors.clear()
    this.wakeAll()
    if (!connection) return
    if (this.options.subscriber) {
      await connection.unsubscribe(this.options.channel).catch(() => {})
      return
    }
    connection.disconnect()
  }

  private receive(raw: string): void {
    let message
    try {
      message = decodeMessage(raw)
    } catch (error) {
      this.report(error, 'subscribe')
      return
    }
    if ('all' in message) {
      this.forget()
      return
    }
    // Messages arrive in the order Redis ran the writes, so each one simply replaces the last;
    // a clear leaves a known "no status" rather than a gap a stale reply could fill.
    if (this.options.mirror) {
      this.mirror.set(message.c, message.r)
      // A clear restarts the circuit's epochs, so an older floor would never be reached again.
      if (message.r === null) this.floors.delete(message.c)
    }
    const ours = message.i === this.origin ? message.n : undefined
    if (message.r === null) {
      if (ours !== undefined) this.settled(message.c, ours)
      return
    }
    const change = { circuit: message.c, record: message.r }
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (error) {
        // One listener's failure is its own: the others still hear of the change.
        this.report(error, 'subscribe', message.c)
      }
    }
    if (ours !== undefined) this.settled(message.c, ours)
  }

  private report(error: unknown, operation: string, circuit?: string): void {
    try {
      this.options.onError(toStorageError(error, operation, circuit))
    } catch {
      // The error reporter itself must not crash the process either.
    }
  }
}
