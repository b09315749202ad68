import diagnostics from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { CHANNELS, isCircuitBulkheadError, isCircuitOpenError, isCircuitTimeoutError } from '../src/index.js'
import type { CallContext, TransitionMessage } from '../src/index.js'
import { fail, ok, rejection, setup } from './support/fixtures.js'

describe('timeout', () => {
  it('rejects with CircuitTimeoutError, aborts the signal and counts a failure', async () => {
    const { circuit } = setup({ timeout: 5, threshold: { failures: 1, within: 1000 } })
    let seen: AbortSignal | undefined
    const error = await rejection(
      circuit.call((signal) => {
        seen = signal
        return new Promise(() => {}) // never settles on its own
      }),
    )
    expect(isCircuitTimeoutError(error)).toBe(true)
    expect(error.timeoutMs).toBe(5)
    expect(seen?.aborted).toBe(true)
    expect(seen?.reason).toBe(error)
    expect(circuit.state).toBe('open')
  })

  it('passes a signal that never aborts when no timeout is set', async () => {
    const { circuit } = setup()
    const signal = await circuit.call((s) => s)
    expect(signal).toBeInstanceOf(AbortSignal)
    expect(signal.aborted).toBe(false)
  })

  it('absorbs a late rejection of a timed-out call (no unhandled rejection)', async () => {
    const { circuit } = setup({ timeout: 1 })
    let rejectLate!: (e: Error) => void
    await rejection(circuit.call(() => new Promise((_, reject) => (rejectLate = reject))))
    const unhandled: unknown[] = []
    const onUnhandled = (e: unknown) => unhandled.push(e)
    process.on('unhandledRejection', onUnhandled)
    rejectLate(new Error('late'))
    await new Promise((r) => setImmediate(r))
    process.off('unhandledRejection', onUnhandled)
    expect(unhandled).toEqual([])
  })
})

describe('bulkhead', () => {
  it('rejects calls beyond maxConcurrent without counting them as failures', async () => {
    const { circuit, storage } = setup({ maxConcurrent: 2, threshold: { failures: 1, within: 1000 } })
    const gates: Array<() => void> = []
    const slow = () => new Promise<void>((resolve) => gates.push(resolve))
    const running = [circuit.call(slow), circuit.call(slow)]
    const error = await rejection(circuit.call(ok(1)))
    expect(isCircuitBulkheadError(error)).toBe(true)
    expect(error.maxConcurrent).toBe(2)
    expect(circuit.state).toBe('closed')
    expect(storage.events.get(circuit.name)).toBeUndefined()
    gates.forEach((g) => g())
    await Promise.all(running)
    await expect(circuit.call(ok('room again'))).resolves.toBe('room again')
  })

  it('frees the slot of a call rejected because the circuit is open', async () => {
    const { circuit } = setup({ maxConcurrent: 1, threshold: { failures: 1, within: 1000 } })
    await rejection(circuit.call(fail()))
    for (let i = 0; i < 3; i++) expect(isCircuitOpenError(await rejection(circuit.call(ok(i))))).toBe(true)
  })
})

describe('fallback', () => {
  it('serves a function fallback with the error and context for a counted failure', async () => {
    const seen: unknown[] = []
    const { circuit } = setup({
      fallback: (error: unknown, ctx: unknown) => {
        seen.push(error, ctx)
        return 'fallback value'
      },
    })
    await expect(circuit.call(fail('down'))).resolves.toBe('fallback value')
    expect((seen[0] as Error).message).toBe('down')
    expect(seen[1]).toEqual({ circuit: circuit.name, state: 'closed' })
  })

  it('serves a static value for open rejections', async () => {
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 }, fallback: 'cached' })
    await circuit.call(fail())
    await expect(circuit.call(ok('fresh'))).resolves.toBe('cached')
    expect(circuit.state).toBe('open')
  })

  it('tries an array in order and throws the last error when all throw', async () => {
    const tried: string[] = []
    const thrower = (id: string) => () => {
      tried.push(id)
      throw new Error(id)
    }
    const { circuit } = setup({ fallback: [thrower('a'), thrower('b')] })
    expect((await rejection(circuit.call(fail('original')))).message).toBe('b')
    expect(tried).toEqual(['a', 'b'])

    const second = setup({ fallback: [thrower('a'), async () => 'second works', 'never reached'] })
    await expect(second.circuit.call(fail())).resolves.toBe('second works')
  })

  it('does not run for errors that do not count', async () => {
    const { circuit } = setup({ isFailure: () => false, fallback: 'nope' })
    expect((await rejection(circuit.call(fail('passes through')))).message).toBe('passes through')
  })

  it('runs for bulkhead rejections', async () => {
    const { circuit } = setup({ maxConcurrent: 1, fallback: 'busy' })
    let release!: () => void
    const running = circuit.call(() => new Promise<string>((r) => (release = () => r('done'))))
    await expect(circuit.call(ok('x'))).resolves.toBe('busy')
    release()
    await expect(running).resolves.toBe('done')
  })
})

describe('hooks', () => {
  it('fires open, halfOpen, close and stateChange with the transition event', async () => {
    const events: Array<[string, TransitionMessage]> = []
    const record = (name: string) => (e: TransitionMessage) => void events.push([name, e])
    const { circuit, clock } = setup({
      threshold: { failures: 1, within: 1000 },
      resetAfter: 1000,
      on: { open: record('open'), halfOpen: record('halfOpen'), close: record('close'), stateChange: record('stateChange') },
    })
    await rejection(circuit.call(fail()))
    const openedAt = clock()
    clock.advance(1000)
    await circuit.call(ok(1))
    expect(events.map(([n, e]) => `${n}:${e.from}->${e.to}@${e.epoch}`)).toEqual([
      'open:closed->open@1',
      'stateChange:closed->open@1',
      'halfOpen:open->half_open@2',
      'stateChange:open->half_open@2',
      'close:half_open->closed@3',
      'stateChange:half_open->closed@3',
    ])
    expect(events[0]![1]).toEqual({ circuit: circuit.name, from: 'closed', to: 'open', openedAt, epoch: 1 })
  })

  it('fires reject with the reason', async () => {
    const reasons: string[] = []
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 }, on: { reject: (e) => void reasons.push(e.reason) } })
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(ok(1)))
    expect(reasons).toEqual(['open'])
  })

  it('never lets a throwing or rejecting hook break a call, and reports it on the hook_error channel', async () => {
    const reported: Array<{ hook: string }> = []
    const listener = (m: unknown) => void reported.push(m as { hook: string })
    diagnostics.subscribe(CHANNELS.hookError, listener)
    try {
      const { circuit } = setup({
        threshold: { failures: 1, within: 1000 },
        on: {
          open: () => {
            throw new Error('hook bug')
          },
          stateChange: () => Promise.reject(new Error('async hook bug')),
        },
      })
      expect((await rejection(circuit.call(fail('real')))).message).toBe('real')
      expect(circuit.state).toBe('open')
      await new Promise((r) => setImmediate(r))
      expect(reported.map((r) => r.hook).sort()).toEqual(['open', 'stateChange'])
    } finally {
      diagnostics.unsubscribe(CHANNELS.hookError, listener)
    }
  })

  it('fires nothing when a reset re-enters the closed state', async () => {
    const events: string[] = []
    const { circuit } = setup({ on: { stateChange: (e) => void events.push(e.to), close: () => void events.push('close') } })
    await circuit.reset()
    expect(events).toEqual([])
  })

  it('awaits an async beforeTransition and calls the release it answers after the write', async () => {
    const order: string[] = []
    const { circuit, storage } = setup({
      threshold: { failures: 1, within: 1000 },
      on: {
        beforeTransition: async (e) => {
          order.push(`before ${e.to}`)
          return () => order.push(`release, stored=${storage.statuses.get(circuit.name)?.status}`)
        },
        open: () => void order.push('open hook'),
      },
    })
    await rejection(circuit.call(fail()))
    expect(order).toEqual(['before open', 'release, stored=open', 'open hook'])
  })
})

describe('diagnostics channels', () => {
  const subscriptions: Array<() => void> = []
  afterEach(() => subscriptions.splice(0).forEach((off) => off()))
  const collect = (name: string) => {
    const seen: unknown[] = []
    const fn = (m: unknown) => void seen.push(m)
    diagnostics.subscribe(name, fn)
    subscriptions.push(() => diagnostics.unsubscribe(name, fn))
    return seen
  }

  it('publishes transitions and rejections', async () => {
    const transitions = collect(CHANNELS.transition)
    const rejects = collect(CHANNELS.reject)
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 } })
    await rejection(circuit.call(fail()))
    await rejection(circuit.call(ok(1)))
    expect(transitions).toContainEqual(expect.objectContaining({ circuit: circuit.name, from: 'closed', to: 'open', epoch: 1 }))
    expect(rejects).toContainEqual({ circuit: circuit.name, reason: 'open' })
  })

  it('traces each call with its state at admission and its outcome set before it settles', async () => {
    const ends: CallContext[] = []
    const handlers = {
      start() {},
      end() {},
      asyncStart() {},
      asyncEnd: (ctx: CallContext) => void ends.push({ ...ctx }),
      error() {},
    }
    const channel = diagnostics.tracingChannel<CallContext>(CHANNELS.call)
    channel.subscribe(handlers as never)
    try {
      const { circuit } = setup({ threshold: { failures: 1, within: 1000 }, fallback: 'fb' })
      await circuit.call(ok(1))
      await circuit.call(fail())
      await circuit.call(ok(2))
      expect(ends.map((c) => `${c.state}:${c.outcome}`)).toEqual(['closed:success', 'closed:fallback', 'open:fallback'])
      expect(ends[0]!.result).toBe(1)
    } finally {
      channel.unsubscribe(handlers as never)
    }
  })
})

describe('an open rejection nobody handles', () => {
  it('is still reported as an unhandled rejection (it settles a microtask after call() answers)', async () => {
    const { circuit } = setup({ threshold: { failures: 1, within: 1000 } })
    await rejection(circuit.call(fail()))
    const seen: unknown[] = []
    const listener = (reason: unknown) => void seen.push(reason)
    process.on('unhandledRejection', listener)
    try {
      void circuit.call(ok(1)) // never handled
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({ code: 'ERR_CIRCUIT_OPEN' })
    } finally {
      process.off('unhandledRejection', listener)
    }
  })
})
