import { afterEach, describe, expect, it, vi } from 'vitest'
import { Seconds } from '../src/seconds.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('the counters\' second', () => {
  it('with the wall clock, one reading serves until the second ends', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 0, 0, 0, 400) })
    const clock = vi.fn(() => Date.now())
    const seconds = new Seconds(clock, true)
    const first = seconds.now()
    for (let i = 0; i < 100; i++) expect(seconds.now()).toBe(first)
    expect(clock).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(600)
    expect(seconds.now()).toBe(first + 1)
    expect(clock).toHaveBeenCalledTimes(2)
    seconds.stop()
  })

  it('a busy loop reads the clock again after 256 uses, even when the timer could not run', () => {
    let now = Date.UTC(2026, 0, 1)
    const clock = vi.fn(() => now)
    const seconds = new Seconds(clock, true)
    seconds.now()
    now += 5_000 // the event loop is blocked: the end-of-second timer cannot fire
    const seen = Array.from({ length: 257 }, () => seconds.now())
    expect(seen.at(-1)).toBe(now / 1000)
    expect(clock).toHaveBeenCalledTimes(2)
    seconds.stop()
  })

  it('an injected clock is read on every call', () => {
    let now = Date.UTC(2026, 0, 1)
    const seconds = new Seconds(() => now, false)
    expect(seconds.now()).toBe(now / 1000)
    now += 1_000
    expect(seconds.now()).toBe(now / 1000)
  })

  it('a clock answering something that is not epoch ms counts in second 0', () => {
    for (const value of [Number.NaN, -5, Infinity, 9e15]) expect(new Seconds(() => value, false).now()).toBe(0)
  })
})
