import { ConfigurationError } from './errors.js'

/** Edit distance between two option names (Levenshtein), for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost))
    }
    previous = row
  }
  return previous[b.length]!
}

/** The known name closest to `key`, when one is close enough to be a likely misspelling. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const name of known) {
    const d = distance(key, name)
    if (d < bestDistance) [best, bestDistance] = [name, d]
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined
}

/**
 * Throws for the first key of `object` that is not in `known`, suggesting the closest known one:
 * a misspelled option (`tresholds`) must not be silently ignored.
 * @throws ConfigurationError naming the key (prefixed by `path`) and the suggestion.
 */
export function rejectUnknownKeys(object: object, known: readonly string[], path = ''): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue
    const suggestion = closest(key, known)
    const hint = suggestion ? `did you mean '${suggestion}'?` : `known: ${known.join(', ')}`
    throw new ConfigurationError(`${path}${key}`, `is not an option (${hint})`, (object as Record<string, unknown>)[key])
  }
}
