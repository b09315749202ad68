import { describe, expect, it } from 'vitest'
import { Circuit, ConfigurationError, NullStorage, isConfigurationError } from '../src/index.js'
import type { CircuitOptions } from '../src/index.js'

const storage = new NullStorage()
const make = (options: Record<string, unknown>, name: unknown = 'cfg') =>
  () => new Circuit(name as string, { storage, registry: false, ...options } as CircuitOptions)

describe('bad options throw ConfigurationError at construction, naming option and value', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['zero failures', { threshold: { failures: 0, within: 1000 } }, 'threshold.failures must be a positive integer, got 0'],
    ['negative window', { threshold: { failures: 3, within: -5 } }, 'threshold.within must be a positive number of milliseconds, got -5'],
    ['window as a string', { threshold: { failures: 3, within: '60s' } }, 'threshold.within must be a positive number of milliseconds, got "60s"'],
    ['rate above 1', { threshold: { failureRate: 1.5, minimumCalls: 5, within: 1000 } }, 'threshold.failureRate must be a number in (0, 1], got 1.5'],
    ['rate of 0', { threshold: { failureRate: 0, minimumCalls: 5, within: 1000 } }, 'threshold.failureRate must be a number in (0, 1], got 0'],
    ['unknown threshold shape', { threshold: { errors: 3 } }, 'threshold must be { failures, within } or { failureRate, minimumCalls, within }, got {"errors":3}'],
    ['both threshold kinds', { threshold: { failures: 3, failureRate: 0.5, within: 1000 } }, 'threshold must be'],
    ['minimumCalls with failures', { threshold: { failures: 3, minimumCalls: 2, within: 1000 } }, 'threshold.minimumCalls goes with failureRate'],
    ['jitter above 1', { jitter: 2 }, 'jitter must be a number in [0, 1], got 2'],
    ['negative jitter', { jitter: -0.1 }, 'jitter must be a number in [0, 1], got -0.1'],
    ['zero resetAfter', { resetAfter: 0 }, 'resetAfter must be a positive number of milliseconds, got 0'],
    ['NaN timeout', { timeout: Number.NaN }, 'timeout must be a positive number of milliseconds, got NaN'],
    ['fractional halfOpenCalls', { halfOpenCalls: 1.5 }, 'halfOpenCalls must be a positive integer, got 1.5'],
    ['zero successThreshold', { successThreshold: 0 }, 'successThreshold must be a positive integer, got 0'],
    ['negative maxConcurrent', { maxConcurrent: -1 }, 'maxConcurrent must be a positive integer, got -1'],
    ['negative stateCacheTtl', { stateCacheTtl: -1 }, 'stateCacheTtl must be a number of milliseconds >= 0, got -1'],
    ['batch without maxSize', { batch: { interval: 50 } }, 'batch.maxSize must be a positive integer, got undefined'],
    ['isFailure not a function', { isFailure: true }, 'isFailure must be a function, got true'],
    ['unknown hook', { on: { opened: () => {} } }, 'on.opened is not a hook'],
    ['hook not a function', { on: { open: 'log' } }, 'on.open must be a function, got "log"'],
    ['bad onStorageFailure', { onStorageFailure: 'ignore' }, `onStorageFailure must be 'open' or 'throw', got "ignore"`],
    ['storage that is not one', { storage: { getStatus() {} } }, 'storage must implement Storage (missing: setStatus'],
  ]
  for (const [label, options, message] of cases) {
    it(`rejects ${label}`, () => {
      expect(make(options)).toThrowError(ConfigurationError)
      expect(make(options)).toThrowError(`[@breaker/core] ${message}`)
    })
  }

  it('rejects a missing storage when no default is configured', () => {
    let error: unknown
    try {
      new Circuit('no-storage', { registry: false })
    } catch (e) {
      error = e
    }
    expect(isConfigurationError(error)).toBe(true)
    expect((error as ConfigurationError).option).toBe('storage')
    expect((error as Error).message).toContain('configure({ defaultStorage })')
  })

  it('rejects an empty name', () => {
    expect(make({}, '')).toThrowError('[@breaker/core] name must be a non-empty string, got ""')
  })

  it('keeps the option and the value on the error', () => {
    try {
      make({ resetAfter: -3 })()
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_CONFIGURATION', option: 'resetAfter', received: -3 })
    }
    expect.assertions(1)
  })

  it('accepts the defaults of the Ruby gem', () => {
    const circuit = make({})()
    expect(circuit.config).toMatchObject({
      threshold: { failures: 5, within: 60_000 },
      resetAfter: 60_000,
      jitter: 0.25,
      halfOpenCalls: 1,
      successThreshold: 1,
      timeout: null,
      maxConcurrent: null,
      stateCacheTtl: 0,
      batch: null,
    })
  })
})
