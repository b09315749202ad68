import { describe, expect, it } from 'vitest'
import { isCircuitTimeoutError } from '../src/index.js'
import { rejection, setup } from './support/fixtures.js'

describe('caller cancellation: call(fn, { signal })', () => {
  it('rejects at once with the reason of a signal aborted before the call, without running fn', async () => {
    const { circuit } = setup()
    const controller = new AbortController()
    controller.abort(new Error('user navigated away'))
    let ran = false
    const error = await rejection(circuit.call(() => (ran = true), { signal: controller.signal }))
    expect((error as Error).message).toBe('user navigated away')
    expect(ran).toBe(false)
  })

  it("aborts fn's signal and rejects with the reason when aborted mid-call, counting nothing (like fetch's signal)", async () => {
    const { circuit } = setup({ threshold: { failures: 1, within: 60_000 } })
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const call = circuit.call(
      (signal) => {
        seen = signal
        return new Promise<never>(() => {})
      },
      { signal: controller.signal },
    )
    controller.abort('cancelled')
    expect(await rejection(call)).toBe('cancelled')
    expect(seen?.aborted).toBe(true)
    const stats = await circuit.stats()
    expect([stats.failures, stats.successes, circuit.state]).toEqual([0, 0, 'closed'])
  })

  it('still times out under `timeout`, and the timeout counts as a failure', async () => {
    const { circuit } = setup({ timeout: 5, threshold: { failures: 1, within: 60_000 } })
    const controller = new AbortController()
    const error = await rejection(circuit.call(() => new Promise<never>(() => {}), { signal: controller.signal }))
    expect(isCircuitTimeoutError(error)).toBe(true)
    expect(circuit.state).toBe('open')
    expect((await circuit.stats()).timeouts).toBe(1)
  })

  it('answers normally when the signal never aborts', async () => {
    const { circuit } = setup()
    await expect(circuit.call(async () => 7, { signal: new AbortController().signal })).resolves.toBe(7)
    expect((await circuit.stats()).successes).toBe(1)
  })
})
