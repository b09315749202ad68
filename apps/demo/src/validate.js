import { BREAK_MODES } from './breakable-storage.js'
import { PAYMENTS_ACTIONS } from './dependency.js'
import { TAIL_LIMITS } from './hedging.js'
import { UPSTREAM_LIMITS } from './upstream.js'

/** Bad input to the API: answered with a 400 and this message, never a crash. */
export class BadRequest extends Error {
  status = 400
}

const CIRCUIT_ACTIONS = Object.freeze({ 'force-open': 'forceOpen', 'force-close': 'forceClose', 'hard-reset': 'hardReset', reset: 'reset' })

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function only(body, allowed) {
  if (!isObject(body)) throw new BadRequest('body must be a JSON object')
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k))
  if (unknown.length > 0) throw new BadRequest(`unknown field ${unknown.map((k) => `'${k}'`).join(', ')}; expected ${allowed.join(', ')}`)
  if (!allowed.some((k) => body[k] !== undefined)) throw new BadRequest(`give at least one of ${allowed.join(', ')}`)
}

function number(body, key, min, max, { integer = false } = {}) {
  const v = body[key]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new BadRequest(`${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`)
  }
  return v
}

/** `{ failureRate?: 0..1, latencyMs?: 0..10000 }`. */
export function readUpstream(body) {
  only(body, ['failureRate', 'latencyMs'])
  const out = {}
  const failureRate = number(body, 'failureRate', 0, 1)
  const latencyMs = number(body, 'latencyMs', 0, UPSTREAM_LIMITS.maxLatencyMs, { integer: true })
  if (failureRate !== undefined) out.failureRate = failureRate
  if (latencyMs !== undefined) out.latencyMs = latencyMs
  return out
}

/** `{ slowRate?: 0..1, slowMs?: 0..10000, baseMs?: 0..10000 }`: the hedging panel's latency tail. */
export function readTail(body) {
  only(body, ['slowRate', 'slowMs', 'baseMs'])
  const out = {}
  const slowRate = number(body, 'slowRate', 0, 1)
  const slowMs = number(body, 'slowMs', 0, TAIL_LIMITS.maxLatencyMs, { integer: true })
  const baseMs = number(body, 'baseMs', 0, TAIL_LIMITS.maxLatencyMs, { integer: true })
  if (slowRate !== undefined) out.slowRate = slowRate
  if (slowMs !== undefined) out.slowMs = slowMs
  if (baseMs !== undefined) out.baseMs = baseMs
  return out
}

/** `{ requests: 1..100 }`: hedged requests to run on the worker that got the request. */
export function readHedgeRun(body) {
  only(body, ['requests'])
  return { requests: number(body, 'requests', 1, 100, { integer: true }) }
}

/** A payments action in the URL (`trip`, `force-open`, `force-close`, `hard-reset`). */
export function readPaymentsAction(action) {
  if (!Object.hasOwn(PAYMENTS_ACTIONS, action)) throw new BadRequest(`action must be one of ${Object.keys(PAYMENTS_ACTIONS).join(', ')}, got ${JSON.stringify(action)}`)
  return { action }
}

/** `{ enabled?: boolean, rate?: 1..1000 calls per second per circuit per worker }`. */
export function readTraffic(body) {
  only(body, ['enabled', 'rate'])
  const out = {}
  if (body.enabled !== undefined) {
    if (typeof body.enabled !== 'boolean') throw new BadRequest(`enabled must be true or false, got ${JSON.stringify(body.enabled)}`)
    out.enabled = body.enabled
  }
  const rate = number(body, 'rate', 1, 1000)
  if (rate !== undefined) out.rate = rate
  return out
}

/** `{ mode: 'ok' | 'throw' | 'hang' }`. */
export function readPrimaryMode(body) {
  only(body, ['mode'])
  if (!BREAK_MODES.includes(body.mode)) throw new BadRequest(`mode must be one of ${BREAK_MODES.join(', ')}, got ${JSON.stringify(body.mode)}`)
  return { mode: body.mode }
}

/** A circuit action in the URL (`force-open`, …) as the node's operation name. */
export function readCircuitAction(name, action) {
  if (!/^[\w.-]{1,64}$/.test(name)) throw new BadRequest(`circuit name must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`)
  const op = CIRCUIT_ACTIONS[action]
  if (!op) throw new BadRequest(`action must be one of ${Object.keys(CIRCUIT_ACTIONS).join(', ')}, got ${JSON.stringify(action)}`)
  return { circuit: name, op }
}

/** A snapshot body: a demo snapshot (`workers: [...]`) or a bare registry snapshot; core checks the rest. */
export function readSnapshotBody(body) {
  if (!isObject(body)) throw new BadRequest('snapshot must be a JSON object')
  if (body.workers !== undefined) {
    if (!Array.isArray(body.workers) || body.workers.length === 0) throw new BadRequest('snapshot.workers must be a non-empty array')
    for (const [i, w] of body.workers.entries()) {
      if (!isObject(w) || !isObject(w.snapshot)) throw new BadRequest(`snapshot.workers[${i}] must be { worker, snapshot }`)
    }
    return body
  }
  if (body.version === undefined || body.circuits === undefined) {
    throw new BadRequest('snapshot must be a demo snapshot ({ workers: [...] }) or a registry snapshot ({ version, circuits })')
  }
  return body
}

/** Parses a JSON body; an empty body is `{}` only when `emptyOk`. */
export function parseJson(text, emptyOk = false) {
  if (text.trim() === '') {
    if (emptyOk) return {}
    throw new BadRequest('body must be JSON, got an empty body')
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new BadRequest(`body must be JSON: ${error.message}`)
  }
}
