import { afterEach, describe, expect, it, vi } from 'vitest'
import { withDeadline } from '../src/index.js'

describe('withDeadline', () => {
  afterEach(() => vi.useRealTimers())

  it('settles with the answer when it comes first, and leaves no timer behind', async () => {
    vi.useFakeTimers()
    const expire = vi.fn(() => new Error('late'))
    await expect(withDeadline(Promise.resolve(7), 50, expire)).resolves.toBe(7)
    expect(vi.getTimerCount()).toBe(0)
    expect(expire).not.toHaveBeenCalled()
  })

  it('rejects with what expire answers at the deadline, and tells onLate of a success that lands after', async () => {
    vi.useFakeTimers()
    let answer!: (v: string) => void
    const late: string[] = []
    const raced = withDeadline(new Promise<string>((r) => (answer = r)), 50, () => new Error('deadline'), (v) => void late.push(v))
    const outcome = raced.catch((e: Error) => e.message)
    await vi.advanceTimersByTimeAsync(50)
    expect(await outcome).toBe('deadline')
    answer('landed anyway')
    await Promise.resolve()
    expect(late).toEqual(['landed anyway'])
  })

  it('absorbs a rejection that arrives after the deadline', async () => {
    vi.useFakeTimers()
    let fail!: (e: Error) => void
    const raced = withDeadline(new Promise<never>((_, r) => (fail = r)), 10, () => new Error('deadline'))
    const outcome = raced.catch((e: Error) => e.message)
    await vi.advanceTimersByTimeAsync(10)
    vi.useRealTimers() // the unhandled-rejection check needs a real turn of the event loop
    const unhandled: unknown[] = []
    const listen = (e: unknown) => void unhandled.push(e)
    process.on('unhandledRejection', listen)
    fail(new Error('late failure'))
    await new Promise((r) => setImmediate(r))
    process.off('unhandledRejection', listen)
    expect(await outcome).toBe('deadline')
    expect(unhandled).toEqual([])
  })
})
