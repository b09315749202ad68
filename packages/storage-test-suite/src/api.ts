/**
 * The few pieces of a test runner the suite needs, typed by shape so that vitest (or any
 * runner with the same `describe`/`it`/`expect`) can be passed in without this package
 * importing it at run time.
 */

/** The matchers the checks use; a subset every jest-style `expect` offers. */
export interface ConformanceMatchers {
  /** Same value by `Object.is`. */
  toBe(expected: unknown): unknown
  /** Deep equality. */
  toEqual(expected: unknown): unknown
  /** Strictly `null`. */
  toBeNull(): unknown
  /** `>=` for numbers. */
  toBeGreaterThanOrEqual(expected: number): unknown
  /** `<=` for numbers. */
  toBeLessThanOrEqual(expected: number): unknown
  /** `.length` equals `expected`. */
  toHaveLength(expected: number): unknown
  /** The negated matchers. */
  readonly not: {
    toBe(expected: unknown): unknown
    toBeNull(): unknown
  }
}

/** A jest-style `expect`. */
export type ConformanceExpect = (actual: unknown) => ConformanceMatchers

/** A jest-style `it` with `it.skip`; a test body may return a promise. */
export interface ConformanceIt {
  (name: string, fn: () => Promise<void>): unknown
  /** Registers a test that is reported as skipped. */
  skip(name: string, fn: () => Promise<void>): unknown
}

/** A jest-style `describe`; the suite body may be async when the storage factory is. */
export type ConformanceDescribe = (name: string, fn: () => void | Promise<void>) => unknown

/** What `storageConformance` takes from the caller's runner: `{ describe, it, expect }`. */
export interface ConformanceApi {
  /** Groups tests. */
  readonly describe: ConformanceDescribe
  /** Registers one test (and skipped ones through `it.skip`). */
  readonly it: ConformanceIt
  /** Assertions; a failed one throws. */
  readonly expect: ConformanceExpect
}
