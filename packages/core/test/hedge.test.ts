import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Circuit, parallel } from '../src/index.js'
import { rejection, setup } from './support/fixtures.js'

describe('hedged requests (the Ruby gem BreakerMachines hedged requests)', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }))
  afterEach(() => void vi.useRealTimers())

  it('starts the function again after `delay`, serves the first success and aborts the slow attempt', async () => {
    const { circuit } = setup({ hedge: { delay: 50, attempts: 2 } })
    const signals: AbortSignal[] = []
    let run = 0
    const call = circuit.call((signal) => {
      signals.push(signal)
      return ++run === 1 ? new Promise<string>(() => {}) : Promise.resolve('hedged')
    })
    await vi.advanceTimersByTimeAsync(49)
    expect(run).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await expect(call).resolves.toBe('hedged')
    expect(signals.map((s) => s.aborted)).toEqual([true, false])
    expect((await circuit.stats()).successes).toBe(1)
  })

  it('counts one failure when every attempt fails, and answers the last error', async () => {
    const { circuit } = setup({ hedge: { delay: 50, attempts: 3 } })
    let run = 0
    const error = await rejection(circuit.call(() => Promise.reject(new Error(`attempt ${++run}`))))
    expect((error as Error).message).toBe('attempt 3')
    expect((await circuit.stats()).failures).toBe(1)
  })

  it('does not start a second attempt when the first succeeds before the delay', async () => {
    const { circuit } = setup({ hedge: { delay: 50, attempts: 2 } })
    let run = 0
    await expect(circuit.call(async () => ++run)).resolves.toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(run).toBe(1)
  })

  it('callAny races different backends, staggered, as one call (the gem`s `backends`)', async () => {
    const { circuit } = setup()
    const started: string[] = []
    const call = circuit.callAny(
      [
        () => (started.push('primary'), new Promise<string>(() => {})),
        () => (started.push('replica'), Promise.resolve('from replica')),
      ],
      { delay: 20 },
    )
    expect(started).toEqual(['primary'])
    await vi.advanceTimersByTimeAsync(20)
    await expect(call).resolves.toBe('from replica')
    expect(started).toEqual(['primary', 'replica'])
    expect((await circuit.stats()).successes).toBe(1)
  })

  it('refuses hedge.attempts below 2', () => {
    expect(() => setup({ hedge: { delay: 10, attempts: 1 } })).toThrowError('hedge.attempts must be at least 2')
  })
})

describe('parallel fallbacks (the Ruby gem BreakerMachines parallel fallbacks)', () => {
  it('runs every fallback at once and serves the first that succeeds', async () => {
    const started: string[] = []
    const { circuit } = setup({
      threshold: { failures: 10, within: 60_000 },
      fallback: parallel(
        () => (started.push('slow'), new Promise<string>((resolve) => setTimeout(() => resolve('slow'), 50))),
        () => (started.push('fast'), 'fast'),
      ),
    })
    await expect(circuit.call(() => Promise.reject(new Error('down')))).resolves.toBe('fast')
    expect(started).toEqual(['slow', 'fast'])
  })

  it('answers an AggregateError with every error when all fail', async () => {
    const { circuit } = setup({
      threshold: { failures: 10, within: 60_000 },
      fallback: parallel<string>(
        () => Promise.reject(new Error('cache down')),
        () => {
          throw new Error('replica down')
        },
      ),
    })
    const error = await rejection(circuit.call(() => Promise.reject(new Error('down'))))
    expect(error).toBeInstanceOf(AggregateError)
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['cache down', 'replica down'])
  })

  it('needs at least one fallback', () => {
    expect(() => parallel()).toThrowError('parallel needs at least one fallback')
  })
})

// Keep the Circuit import used for the type of setup's answer in editors.
export type { Circuit }
