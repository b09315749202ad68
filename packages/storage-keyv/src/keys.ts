/** Key names of one circuit under a prefix. */
export interface KeyvKeys {
  /** The shared status record. */
  readonly status: string
  /** Generation of the circuit's counts; a `clear` changes it, voiding every writer's older buckets. */
  readonly generation: string
  /** Writer slot `i`: which writer ids hold counts for the circuit. */
  slot(i: number): string
  /** The bucket counters one writer holds for the circuit. */
  writer(id: string): string
}

/**
 * URI-encodes a prefix or circuit name (plus `*!'()~`), so neither can hold a `:`: glob
 * characters cannot shape a key, and a prefix is exactly the first segment of its keys — prefix
 * `a` can never own a key of prefix `a:c:x`, which is stored as `a%3Ac%3Ax:…`.
 */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/[*!'()~]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** The keys of `circuit` under `prefix`: `<prefix>:c:<circuit>:status|gen|slot:<i>|w:<writer id>`. */
export function keyvKeys(prefix: string, circuit: string): KeyvKeys {
  const base = `${encodeSegment(prefix)}:c:${encodeSegment(circuit)}`
  return {
    status: `${base}:status`,
    generation: `${base}:gen`,
    slot: (i) => `${base}:slot:${i}`,
    writer: (id) => `${base}:w:${id}`,
  }
}

/** Generation of every circuit under the prefix; `clearAll` changes it. */
export function globalGenerationKey(prefix: string): string {
  return `${encodeSegment(prefix)}:gen`
}

// What follows `<prefix>:` in a key this package writes (writer ids are [\w.-], see the options).
const OWN_KEY = /^(?:gen|c:[^:]+:(?:status|gen|slot:\d+|w:[\w.-]+))$/

/**
 * True for a key this package wrote under `prefix` (as the store lists it, without Keyv's
 * namespace): the first segment is the encoded prefix, and the rest has one of our shapes, so
 * neither another prefix's keys nor the user's own keys under a similar name are ever matched.
 */
export function isOwnKey(prefix: string, key: string): boolean {
  const head = `${encodeSegment(prefix)}:`
  return key.startsWith(head) && OWN_KEY.test(key.slice(head.length))
}
