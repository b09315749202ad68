import { describe, expect, it } from 'vitest'
import { NullStorage, isConfigurationError } from '@breaker/core'
import { FallbackChainStorage } from '@breaker/storage-fallback'
import type { ChainDefinition, FallbackChainOptions } from '@breaker/storage-fallback'
import { manualClock } from './fixtures/faulty.js'
import { MapStorage } from './fixtures/map-storage.js'

function configError(definition: unknown, options?: FallbackChainOptions): { option: string; message: string } {
  try {
    new FallbackChainStorage(definition as ChainDefinition, options)
  } catch (error) {
    expect(isConfigurationError(error)).toBe(true)
    return error as { option: string; message: string }
  }
  throw new Error('expected a ConfigurationError')
}

describe('configuration', () => {
  const { clock } = manualClock()
  const memory = new MapStorage(clock, 'memory')
  const redis = new MapStorage(clock, 'redis')

  it('accepts an array of { storage, timeout } and tries it in order', () => {
    const chain = new FallbackChainStorage([{ storage: redis, timeout: 5 }, { storage: memory, timeout: 2 }])
    expect(chain.health().map((h) => h.backend)).toEqual(['redis', 'memory'])
  })

  it('accepts the named form { primary, fallback, final } in insertion order', () => {
    const chain = new FallbackChainStorage({
      primary: { storage: redis, timeout: 5 },
      fallback: { storage: memory, timeout: 2 },
      final: { storage: new NullStorage(), timeout: 1 },
    })
    expect(chain.health().map((h) => h.backend)).toEqual(['redis', 'memory', 'null'])
  })

  it("calls a chain function once with the chain's timeout, for dynamic allocation", () => {
    const budgets: number[] = []
    const chain = new FallbackChainStorage(
      ({ timeout }) => {
        budgets.push(timeout)
        return [
          { storage: redis, timeout: timeout * 0.6 },
          { storage: memory, timeout: timeout * 0.3 },
          { storage: new NullStorage(), timeout: timeout * 0.1 },
        ]
      },
      { timeout: 20 },
    )
    expect(budgets).toEqual([20])
    expect(chain.health()).toHaveLength(3)
  })

  it('hands a chain function the default budget of 10 ms when no timeout is given', () => {
    let seen = 0
    new FallbackChainStorage(({ timeout }) => {
      seen = timeout
      return [{ storage: memory }]
    })
    expect(seen).toBe(10)
  })

  it('rejects an empty chain', () => {
    expect(configError([]).message).toBe('[@breaker/storage-fallback] backends must name at least one backend, got []')
    expect(configError({}).option).toBe('backends')
  })

  it('rejects a chain longer than 31 backends', () => {
    const error = configError(Array.from({ length: 32 }, () => ({ storage: memory })))
    expect(error.message).toBe('[@breaker/storage-fallback] backends must name at most 31 backends, got "32 backends"')
  })

  it('rejects something that is no chain at all', () => {
    expect(configError(42).message).toMatch(/^\[@breaker\/storage-fallback\] backends must be an array .*, got 42$/)
  })

  it('rejects an entry without a storage, naming the entry', () => {
    const error = configError([{ storage: redis, timeout: 5 }, { timeout: 2 }])
    expect(error.option).toBe('backends[1].storage')
    expect(error.message).toBe('[@breaker/storage-fallback] backends[1].storage must be a Storage, got undefined')
  })

  it('rejects a storage that lacks a required method, naming it', () => {
    const half = { name: 'half', capabilities: memory.capabilities, getStatus() {} }
    const error = configError({ primary: { storage: half, timeout: 5 } })
    expect(error.option).toBe('backends.primary.storage')
    expect(error.message).toMatch(/has no setStatus\(\) method/)
    expect(error.message).toMatch(/storage 'half'/)
  })

  it('rejects an entry that is not an object', () => {
    expect(configError([null]).option).toBe('backends[0]')
  })

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5', 3_000_000_000])('rejects a timeout of %s, naming the entry and value', (timeout) => {
    const error = configError({ primary: { storage: redis, timeout: 5 }, fallback: { storage: memory, timeout } })
    expect(error.option).toBe('backends.fallback.timeout')
    expect(error.message).toMatch(/^\[@breaker\/storage-fallback\] backends\.fallback\.timeout must be a positive number of milliseconds, got /)
  })

  it('rejects a chain timeout that is not a positive number', () => {
    expect(configError([{ storage: redis }], { timeout: -5 }).message).toBe(
      '[@breaker/storage-fallback] timeout must be a positive number of milliseconds, got -5',
    )
  })

  it('rejects a chain function that answers no array, or an empty one', () => {
    const error = configError(() => ({ primary: { storage: redis } }))
    expect(error.option).toBe('backends({ timeout })')
    expect(error.message).toMatch(/must return a non-empty array of \{ storage, timeout \}, got \{"primary"/)
    expect(configError(() => []).option).toBe('backends({ timeout })')
  })

  it('names the entry of a chain function result that is wrong', () => {
    const error = configError(({ timeout }: { timeout: number }) => [{ storage: redis, timeout: timeout - 10 }])
    expect(error.option).toBe('backends({ timeout })[0].timeout')
    expect(error.message).toMatch(/got 0$/)
  })

  it('rejects bad health and write-back options', () => {
    expect(configError([{ storage: redis }], { unhealthyAfter: 0 }).option).toBe('unhealthyAfter')
    expect(configError([{ storage: redis }], { unhealthyAfter: 1.5 }).option).toBe('unhealthyAfter')
    expect(configError([{ storage: redis }], { unhealthyFor: -1 }).option).toBe('unhealthyFor')
    expect(configError([{ storage: redis }], { maxWriteBack: 0 }).option).toBe('maxWriteBack')
    expect(configError([{ storage: redis }], { clock: 5 as unknown as () => number }).option).toBe('clock')
    expect(configError([{ storage: redis }], { recoverAfter: -1 }).option).toBe('recoverAfter')
    expect(configError([{ storage: redis }], { recoverAfter: 2 ** 31 }).message).toBe(
      '[@breaker/storage-fallback] recoverAfter must be a number of milliseconds from 0 to 2147483647, got 2147483648',
    )
  })

  it('rejects an unknown option, naming the closest known one', () => {
    const error = configError([{ storage: redis }], { unhealthyFro: 5_000 } as FallbackChainOptions)
    expect(error.option).toBe('unhealthyFro')
    expect(error.message).toBe(
      '[@breaker/storage-fallback] unhealthyFro is not an option (did you mean unhealthyFor?); known: timeout, unhealthyAfter, recoverAfter, unhealthyFor, maxWriteBack, clock, got 5000',
    )
  })
})
