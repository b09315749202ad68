import { ConfigurationError } from '../errors.js'

/** Bytes of `name` in UTF-8, the encoding every backend keys by. */
export function nameBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8')
}

/**
 * Checks a circuit name once, at construction: a non-empty string of well-formed Unicode (a
 * lone surrogate has no UTF-8 form, so two such names would share one key), no longer than
 * `maxNameBytes` UTF-8 bytes when the storage declares a limit.
 * @throws ConfigurationError naming what is wrong and the name received.
 */
export function checkCircuitName(name: unknown, maxNameBytes?: number, storage?: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new ConfigurationError('name', 'must be a non-empty string', name)
  if (!(name as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw new ConfigurationError('name', 'must be well-formed Unicode (it holds a lone surrogate, which has no UTF-8 form)', name)
  }
  if (maxNameBytes !== undefined) {
    const bytes = nameBytes(name)
    if (bytes > maxNameBytes) {
      throw new ConfigurationError(
        'name',
        `is ${bytes} bytes in UTF-8; storage '${storage ?? 'unknown'}' keeps names of at most ${maxNameBytes} bytes`,
        name,
      )
    }
  }
}
