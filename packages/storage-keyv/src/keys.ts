/** Key names of one circuit under a prefix. Circuit names are URI-encoded, so none can reach another's keys. */
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

/** URI-encodes a circuit name (plus `*`), so `:` and glob characters in it cannot shape a key. */
export function encodeCircuit(circuit: string): string {
  return encodeURIComponent(circuit).replace(/[*!'()~]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** The keys of `circuit` under `prefix`. */
export function keyvKeys(prefix: string, circuit: string): KeyvKeys {
  const base = `${prefix}:c:${encodeCircuit(circuit)}`
  return {
    status: `${base}:status`,
    generation: `${base}:gen`,
    slot: (i) => `${base}:slot:${i}`,
    writer: (id) => `${base}:w:${id}`,
  }
}

/** Generation of every circuit under the prefix; `clearAll` changes it. */
export function globalGenerationKey(prefix: string): string {
  return `${prefix}:gen`
}

/** True for a key this package wrote under `prefix` (as the store lists it, without Keyv's namespace). */
export function isOwnKey(prefix: string, key: string): boolean {
  return key.startsWith(`${prefix}:c:`) || key === globalGenerationKey(prefix)
}
