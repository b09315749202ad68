/**
 * Key layout of one prefix. Every key of a circuit carries the circuit in a Redis Cluster
 * hash tag (`breaker:{payments}:status`), so all of them live on one slot and a Lua script
 * may touch them together.
 */
export interface CircuitKeys {
  /** Hash `{ s, o, e, u }`: status, openedAt, epoch, updatedAt. */
  readonly status: string
  /** Hash of per-bucket counters: field `f<bucket>` / `s<bucket>` → count. */
  readonly counts: string
  /** Sorted set of half-open probe leases: member = lease id, score = expiry (epoch ms). */
  readonly leases: string
  /** String key used by `redisLock` for this circuit. */
  readonly lock: string
}

// `{` and `}` would end or start a hash tag early, `:` would blur the layout and glob
// characters would matter to SCAN MATCH; encodeURIComponent escapes all but `*`, which we
// escape ourselves. Readable names (letters, digits, `-`, `_`, `.`) stay as they are.
const EXTRA = /[*!'()~]/g

/** Encodes a circuit name so no name can produce another circuit's keys or break its hash tag. */
export function encodeCircuit(circuit: string): string {
  return encodeURIComponent(circuit).replace(EXTRA, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** Reverses {@link encodeCircuit}. */
export function decodeCircuit(encoded: string): string {
  return decodeURIComponent(encoded)
}

/** The keys of one circuit under `prefix`. */
export function circuitKeys(prefix: string, circuit: string): CircuitKeys {
  const base = `${prefix}:{${encodeCircuit(circuit)}}`
  return {
    status: `${base}:status`,
    counts: `${base}:counts`,
    leases: `${base}:leases`,
    lock: `${base}:lock`,
  }
}

/** The pub/sub channel on which every status write under `prefix` is announced. */
export function statusChannel(prefix: string): string {
  return `${prefix}:status-changes`
}

/**
 * The SCAN MATCH pattern that selects exactly this prefix's circuit keys. The prefix is
 * matched literally: glob characters in it are escaped, so `clearAll` on prefix `a*`
 * cannot reach keys of prefix `ab`.
 */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`)}:{*}:*`
}
