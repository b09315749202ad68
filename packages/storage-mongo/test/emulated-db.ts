// An in-memory EMULATION of the few driver Db/Collection methods MongoStorage uses, evaluating
// filters, updates and aggregation pipelines with mingo (MongoDB's query language in JS). It does
// NOT talk to MongoDB and proves nothing about the server; it checks that the storage's queries
// mean what they should. Each operation runs synchronously after one await, so concurrent calls
// interleave between operations, like a server's per-document atomicity, never inside one.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { Query, aggregate, update, updateOne } from 'mingo'
import type { Db, Document } from 'mongodb'

type Doc = Record<string, unknown>

function duplicateKey(detail: string): Error {
  return Object.assign(new Error(`E11000 duplicate key error ${detail}`), { name: 'MongoServerError', code: 11000 })
}

const clone = <T>(value: T): T => structuredClone(value)

/** Fields a filter pins by equality: what an upsert seeds the new document with. */
function equalities(filter: Doc): Doc {
  const seed: Doc = {}
  for (const [key, value] of Object.entries(filter)) {
    if (key.startsWith('$')) continue
    const isOperator = typeof value === 'object' && value !== null && Object.keys(value).some((k) => k.startsWith('$'))
    if (!isOperator) seed[key] = value
  }
  return seed
}

class EmulatedCollection {
  readonly docs: Doc[] = []
  readonly uniqueKeys: string[][] = [['_id']]
  readonly streams = new Set<EventEmitter>()
  timeoutMS: number | undefined = undefined

  constructor(
    readonly collectionName: string,
    readonly db: EmulatedDb,
  ) {}

  private match(filter: Doc): Doc[] {
    const query = new Query(filter)
    return this.docs.filter((doc) => query.test(doc))
  }

  private checkUnique(candidate: Doc, except?: Doc): void {
    for (const key of this.uniqueKeys) {
      const clash = this.docs.find((doc) => doc !== except && key.every((field) => JSON.stringify(doc[field]) === JSON.stringify(candidate[field])))
      if (clash) throw duplicateKey(`on ${key.join(',')}`)
    }
  }

  private insert(doc: Doc): Doc {
    if (doc['_id'] === undefined) doc['_id'] = randomUUID()
    this.checkUnique(doc)
    this.docs.push(doc)
    this.emit('insert', doc)
    return doc
  }

  private emit(operationType: string, doc: Doc): void {
    const change = { _id: { _data: randomUUID() }, operationType, documentKey: { _id: doc['_id'] }, fullDocument: clone(doc) }
    for (const stream of this.streams) queueMicrotask(() => stream.emit('change', clone(change)))
  }

  /** Applies an operator update or a pipeline update to one document in place. */
  private apply(doc: Doc, change: Doc | Doc[]): void {
    if (Array.isArray(change)) {
      // mingo may replace the array element rather than mutate it: copy the result back.
      const holder = [doc]
      updateOne(holder, {}, change as never)
      const result = holder[0]!
      if (result !== doc) {
        for (const key of Object.keys(doc)) delete doc[key]
        Object.assign(doc, result)
      }
      return
    }
    update(doc, change as never)
  }

  async findOne(filter: Doc) {
    await null
    const found = this.match(filter)[0]
    return found === undefined ? null : clone(found)
  }

  async replaceOne(filter: Doc, replacement: Doc, options: { upsert?: boolean } = {}) {
    await null
    const found = this.match(filter)[0]
    if (found) {
      const next = { _id: found['_id'], ...clone(replacement) }
      this.checkUnique(next, found)
      for (const key of Object.keys(found)) delete found[key]
      Object.assign(found, next)
      this.emit('replace', found)
      return { matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null }
    }
    if (!options.upsert) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null }
    const doc = this.insert({ ...equalities(filter), ...clone(replacement) })
    return { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: doc['_id'] }
  }

  async updateOne(filter: Doc, change: Doc | Doc[], options: { upsert?: boolean } = {}) {
    await null
    return this.updateNow(filter, change, options).result
  }

  private updateNow(filter: Doc, change: Doc | Doc[], options: { upsert?: boolean }) {
    const found = this.match(filter)[0]
    if (found) {
      const before = clone(found)
      const next = clone(found)
      this.apply(next, change)
      this.checkUnique(next, found)
      Object.assign(found, next)
      this.emit('update', found)
      return { before, after: found, result: { matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null } }
    }
    if (!options.upsert) return { before: null, after: null, result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null } }
    const doc = equalities(filter)
    this.apply(doc, change)
    this.insert(doc)
    return { before: null, after: doc, result: { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: doc['_id'] } }
  }

  async findOneAndUpdate(filter: Doc, change: Doc | Doc[], options: { upsert?: boolean; returnDocument?: 'before' | 'after' } = {}) {
    await null
    const { before, after } = this.updateNow(filter, change, options)
    const answer = options.returnDocument === 'after' ? after : before
    return answer === null ? null : clone(answer)
  }

  async deleteOne(filter: Doc) {
    await null
    const found = this.match(filter)[0]
    if (found) {
      this.docs.splice(this.docs.indexOf(found), 1)
      this.emit('delete', found)
    }
    return { deletedCount: found ? 1 : 0 }
  }

  async deleteMany(filter: Doc) {
    await null
    const gone = new Set(this.match(filter))
    const kept = this.docs.filter((doc) => !gone.has(doc))
    this.docs.splice(0, this.docs.length, ...kept)
    for (const doc of gone) this.emit('delete', doc)
    return { deletedCount: gone.size }
  }

  async createIndexes(specs: Array<{ key: Doc; name: string; unique?: boolean }>) {
    await null
    for (const spec of specs) if (spec.unique) this.uniqueKeys.push(Object.keys(spec.key))
    return specs.map((spec) => spec.name)
  }

  aggregate(pipeline: Doc[]) {
    return { toArray: async () => (await null, clone(aggregate(this.docs, pipeline))) }
  }

  find(filter: Doc, options: { limit?: number } = {}) {
    return { toArray: async () => (await null, clone(this.match(filter).slice(0, options.limit ?? Infinity))) }
  }

  watch() {
    const stream = Object.assign(new EventEmitter(), {
      close: async () => void this.streams.delete(stream),
    })
    this.streams.add(stream)
    // The emulated "server" has the cursor open at once; tell the storage on the next tick.
    setImmediate(() => stream.emit('resumeTokenChanged', { _data: 'emulated' }))
    return stream
  }
}

/** The emulated database; `asDb()` types it as the driver's `Db` for MongoStorage's options. */
export class EmulatedDb {
  private readonly collections = new Map<string, EmulatedCollection>()

  collection(name: string): EmulatedCollection {
    let collection = this.collections.get(name)
    if (!collection) this.collections.set(name, (collection = new EmulatedCollection(name, this)))
    return collection
  }

  async command(command: Document): Promise<Document> {
    await null
    if ('hello' in command) return { isWritablePrimary: true, setName: 'emulated' }
    return { ok: 1 }
  }

  asDb(): Db {
    return this as unknown as Db
  }
}
