/**
 * Request/response over a node IPC channel (`process` in a worker, a `cluster.Worker` in the
 * primary). Messages are plain objects tagged `t`; errors cross as `{ message, status, code }`.
 */
export class Rpc {
  #pending = new Map()
  #seq = 0
  #send

  /**
   * @param send `(message, callback)`: posts one message on the channel and calls back with the
   *   error when it could not be sent (a channel that closes mid-send reports it there, not by throwing).
   */
  constructor(send) {
    this.#send = send
  }

  /** Sends `{ t: type, id, op, args }` and answers the matching `{ t: type + '-res' }`'s value. */
  request(type, op, args) {
    const id = ++this.#seq
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      const failed = (error) => {
        if (!error || !this.#pending.delete(id)) return
        reject(Object.assign(new Error(`worker channel closed: ${error.message}`), { status: 503 }))
      }
      try {
        this.#send({ t: type, id, op, args }, failed)
      } catch (error) {
        failed(error)
      }
    })
  }

  /** Feeds a `-res` message in; answers whether it was one of ours. */
  settle(message) {
    const waiting = this.#pending.get(message.id)
    if (!waiting) return false
    this.#pending.delete(message.id)
    if (message.ok) waiting.resolve(message.value)
    else waiting.reject(reviveError(message.error))
    return true
  }

  /** Rejects everything in flight (the other side went away). */
  failAll(reason) {
    for (const { reject } of this.#pending.values()) reject(Object.assign(new Error(reason), { status: 503 }))
    this.#pending.clear()
  }
}

/** Runs `fn` for a request message and sends back the `-res` answer; never throws. `send(message)` may throw. */
export async function answer(send, message, fn) {
  let reply
  try {
    reply = { t: `${message.t}-res`, id: message.id, ok: true, value: await fn(message.op, message.args) }
  } catch (error) {
    reply = { t: `${message.t}-res`, id: message.id, ok: false, error: flattenError(error) }
  }
  try {
    send(reply)
  } catch {
    // The asker is gone; nobody is left to tell.
  }
}

export function flattenError(error) {
  return { message: error?.message ?? String(error), status: error?.status, code: error?.code }
}

export function reviveError(flat) {
  return Object.assign(new Error(flat?.message ?? 'unknown error'), { status: flat?.status, code: flat?.code })
}
