/**
 * The largest count a storage keeps. Counters saturate here instead of wrapping or losing
 * precision, so a hostile or runaway writer can make a count large but never wrong in sign.
 */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER

/** The longest delay Node's timers honour (ms); a larger one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647

/** The latest instant a `Date` can hold (epoch ms); a stored time past it is corrupt. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000

/** True for a safe integer ≥ 0: an epoch or a count. */
export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** True for a finite time in epoch ms that a `Date` can hold (negative times are refused). */
export function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_EPOCH_MS
}

/** `a + b`, saturating at {@link MAX_COUNT}; both must be counts. */
export function saturatingAdd(a: number, b: number): number {
  const sum = a + b
  return sum > MAX_COUNT ? MAX_COUNT : sum
}

// Decimal digits only, no sign, no exponent, no leading zeros: what our writers produce.
const DIGITS = /^(?:0|[1-9][0-9]{0,15})$/
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,6})?$/

/**
 * Reads a count stored as a number or as a string of decimal digits (Redis, Keyv); answers
 * `undefined` for anything else: `'041'`, `'1e3'`, `'NaN'`, negatives, fractions, unsafe integers.
 */
export function decodeCount(value: unknown): number | undefined {
  if (typeof value === 'number') return isCount(value) ? value : undefined
  if (typeof value !== 'string' || !DIGITS.test(value)) return undefined
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : undefined
}

/** Reads a time (epoch ms) stored as a number or a plain decimal string; `undefined` when it is not one. */
export function decodeEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number') return isEpochMs(value) ? value : undefined
  if (typeof value !== 'string' || !DECIMAL.test(value)) return undefined
  const n = Number(value)
  return isEpochMs(n) ? n : undefined
}
