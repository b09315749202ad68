import { describe, expect, expectTypeOf, it } from 'vitest'
import { Circuit, NullStorage } from '../src/index.js'

const storage = new NullStorage()

describe('fallback types flow into call()', () => {
  it("joins a function fallback's return type to the result and types its parameters", async () => {
    const circuit = new Circuit('typed-fallback', {
      storage,
      registry: false,
      fallback: (error, { state }) => ({ status: 'queued' as const, state, error }),
    })
    const result = await circuit.call(() => 42)
    expectTypeOf(result).toEqualTypeOf<number | { status: 'queued'; state: 'closed' | 'open' | 'half_open'; error: unknown }>()
    expect(result).toBe(42)
  })

  it('leaves the result type alone without a fallback', async () => {
    const circuit = new Circuit('untyped-fallback', { storage, registry: false })
    const result = await circuit.call(() => 'ok')
    expectTypeOf(result).toEqualTypeOf<string>()
  })

  it('joins the type of a fallback list whose entries are functions and static values', async () => {
    const circuit = new Circuit('list-fallback', { storage, registry: false, fallback: [(error) => String(error), 'cached'] })
    const result = await circuit.call(() => true)
    expectTypeOf(result).toEqualTypeOf<boolean | string>()
  })
})
