/**
 * The reset delay of one opening, drawn from `[(1 - jitter) · resetAfter, resetAfter]`.
 *
 * The draw is a hash of the circuit name and the epoch of the opening rather than a random
 * number, so every instance sharing the circuit agrees on when it may go half_open, while
 * different circuits (and different openings of one circuit) still spread out.
 */
export function resetDelay(name: string, epoch: number, resetAfter: number, jitter: number): number {
  if (jitter === 0) return resetAfter
  return resetAfter * (1 - jitter * unitHash(name, epoch))
}

/** FNV-1a over the name, mixed with the epoch, mapped to [0, 1). */
function unitHash(name: string, epoch: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= epoch
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  h ^= h >>> 16
  return (h >>> 0) / 0x1_0000_0000
}
