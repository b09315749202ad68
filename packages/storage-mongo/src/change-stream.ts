import type { ChangeStream, Collection, Document } from 'mongodb'
import { CHANGE_STREAM_PIPELINE } from './commands.js'

/** What the watcher hands on: the circuit name (`documentKey._id`) and the document after the write. */
export type StatusDocumentHandler = (id: unknown, document: unknown) => void

/** What the watcher hands on when a status document was deleted (`clear`, `clearAll`): the circuit name. */
export type StatusRemovedHandler = (id: unknown) => void

/**
 * One change stream on the status collection, shared by every subscriber of a storage.
 * The driver resumes it by itself after resumable errors (failover, network blips); any other
 * error closes it and is handed to `onError`, and the next `start()` opens a fresh one.
 */
export class StatusWatcher {
  private stream: ChangeStream<Document> | undefined
  private ready: Promise<void> | undefined
  private abandon: ((error: Error) => void) | undefined

  constructor(
    private readonly collection: Collection<Document>,
    private readonly onDocument: StatusDocumentHandler,
    private readonly onRemoved: StatusRemovedHandler,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Opens the stream unless it is open; resolves once the server has the cursor open (the first
   * resume token arrives), so every status write from then on is delivered.
   */
  start(): Promise<void> {
    if (this.ready !== undefined) return this.ready
    // updateLookup: writes by other tools may be `update`s, whose events carry no full document.
    const stream = this.collection.watch(CHANGE_STREAM_PIPELINE, { fullDocument: 'updateLookup' })
    this.stream = stream
    this.ready = new Promise<void>((resolve, reject) => {
      this.abandon = reject
      stream.once('resumeTokenChanged', () => resolve())
      stream.on('error', (error: unknown) => {
        reject(error)
        this.forget(stream)
        this.onError(error)
      })
    })
    // Nobody may be awaiting `ready` (a lazy start from subscribe); its failure is reported above.
    this.ready.catch(() => undefined)
    stream.on('change', (change: Document) => {
      const key = (change['documentKey'] as { _id?: unknown } | undefined)?._id
      if (change['operationType'] === 'delete') return this.onRemoved(key)
      const document = change['fullDocument']
      // An `update` whose document was deleted before the lookup has nothing to deliver.
      if (document === null || document === undefined) return
      this.onDocument(key, document)
    })
    return this.ready
  }

  /** True while a stream is open or opening. */
  get open(): boolean {
    return this.stream !== undefined
  }

  /** Closes the stream; safe to call when none is open. */
  async close(): Promise<void> {
    const stream = this.stream
    if (stream === undefined) return
    this.forget(stream)
    // Whoever still waits for the stream to open learns it never will.
    this.abandon?.(new Error('[@breaker/storage-mongo] the change stream was closed before it opened'))
    await stream.close()
  }

  private forget(stream: ChangeStream<Document>): void {
    if (this.stream !== stream) return
    this.stream = undefined
    this.ready = undefined
  }
}
