// A stand-in for the driver's Db and Collection that does NOT talk to MongoDB: it records every
// command MongoStorage sends (collection, method, arguments) and answers canned results, so the
// unit tests can check the exact filters, updates, options and index specs without a server.
import { EventEmitter } from 'node:events'
import type { Collection, Db, Document } from 'mongodb'

/** One command as sent: which collection, which driver method, with which arguments. */
export interface SentCommand {
  readonly collection: string
  readonly method: string
  readonly args: readonly unknown[]
}

/** A canned answer: a value, a function of the arguments, or an error to throw. */
export type Canned = { value: unknown } | { compute: (args: readonly unknown[]) => unknown } | { error: unknown }

const DEFAULTS: Record<string, () => unknown> = {
  findOne: () => null,
  replaceOne: () => ({ acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null }),
  updateOne: () => ({ acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null }),
  findOneAndUpdate: () => null,
  deleteOne: () => ({ acknowledged: true, deletedCount: 0 }),
  deleteMany: () => ({ acknowledged: true, deletedCount: 0 }),
  createIndexes: () => [],
  aggregate: () => [],
  find: () => [],
  command: () => ({ ok: 1 }),
}

/** The change stream the fake hands out: an EventEmitter with `close()`, driven by the test. */
export class FakeChangeStream extends EventEmitter {
  closed = false
  constructor(
    readonly pipeline: unknown,
    readonly options: unknown,
  ) {
    super()
  }
  async close(): Promise<void> {
    this.closed = true
  }
}

/** The recording fake database. `sent` lists every command in order. */
export class FakeDb {
  readonly sent: SentCommand[] = []
  readonly streams: FakeChangeStream[] = []
  private readonly canned = new Map<string, Canned[]>()
  private readonly collections = new Map<string, FakeCollection>()

  /** Queues answers for `collection.method` (`'$db.command'` for database commands), used in order. */
  answer(target: string, ...answers: Canned[]): this {
    this.canned.set(target, [...(this.canned.get(target) ?? []), ...answers])
    return this
  }

  collection(name: string): FakeCollection {
    let collection = this.collections.get(name)
    if (collection === undefined) {
      collection = new FakeCollection(name, this)
      this.collections.set(name, collection)
    }
    return collection
  }

  command(command: Document): Promise<unknown> {
    return this.dispatch('$db', 'command', [command])
  }

  /** Commands sent to one collection (or all), as `[method, ...args]` tuples. */
  commandsOn(collection?: string): SentCommand[] {
    return this.sent.filter((command) => collection === undefined || command.collection === collection)
  }

  /** Records the command and answers the next canned result for it, or the method's default. */
  dispatch(collection: string, method: string, args: unknown[]): Promise<unknown> {
    this.sent.push({ collection, method, args: structuredClone(args) })
    const queue = this.canned.get(`${collection}.${method}`)
    const next = queue?.shift()
    if (next === undefined) return Promise.resolve(DEFAULTS[method]?.())
    if ('error' in next) return Promise.reject(next.error)
    if ('compute' in next) return Promise.resolve(next.compute(args))
    return Promise.resolve(next.value)
  }

  /** Typed as the driver's `Db` for the storage's options. */
  asDb(): Db {
    return this as unknown as Db
  }
}

/** The recording fake collection; cursors answer `toArray()` from the canned results. */
export class FakeCollection {
  timeoutMS: number | undefined = undefined
  constructor(
    readonly collectionName: string,
    readonly db: FakeDb,
  ) {}
  findOne(...args: unknown[]) {
    return this.db.dispatch(this.collectionName, 'findOne', args)
  }
  replaceOne(...args: unknown[]) {
    return this.db.dispatch(this.collectionName, 'replaceOne', args)
  }
  updateOne(...args: unknown[]) {
    return this.db.dispatch(this.collectionName, 'updateOne', args)
  }
  findOneAndUpdate(...args: unknown[]) {
    return this.db.dispatch(this.collectionName, 'findOneAndUpdate', args)
  }
  deleteOne(...args: unknown[]) {
    return this.db.dispatch(this.collectionName, 'deleteOne', args)
  }
  deleteMany(...args: unknown[]) {
    return this.db.dispatch(this.collectionName, 'deleteMany', args)
  }
  createIndexes(...args: unknown[]) {
    return this.db.dispatch(this.collectionName, 'createIndexes', args)
  }
  aggregate(...args: unknown[]) {
    return { toArray: () => this.db.dispatch(this.collectionName, 'aggregate', args) }
  }
  find(...args: unknown[]) {
    return { toArray: () => this.db.dispatch(this.collectionName, 'find', args) }
  }
  watch(pipeline: unknown, options: unknown): FakeChangeStream {
    this.db.sent.push({ collection: this.collectionName, method: 'watch', args: structuredClone([pipeline, options]) })
    const stream = new FakeChangeStream(pipeline, options)
    this.db.streams.push(stream)
    return stream
  }
  /** Typed as the driver's `Collection`. */
  asCollection(): Collection<Document> {
    return this as unknown as Collection<Document>
  }
}

/** A driver-like server error with a numeric `code`. */
export function serverError(code: number, message: string): Error {
  return Object.assign(new Error(message), { name: 'MongoServerError', code })
}
