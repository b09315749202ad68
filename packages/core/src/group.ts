import type { Circuit, IsolationHold } from './circuit.js'
import type { CircuitStats } from './circuit-stats.js'
import { ConfigurationError } from './errors.js'
import type { CircuitState } from './types.js'

/** A circuit whatever its fallback type. */
type AnyCircuit = Circuit<unknown>

/**
 * A set of circuits reported on and controlled together (the Ruby gem BreakerMachines' circuit
 * groups): their states at a glance, their stats, and every management operation at once.
 */
export class CircuitGroup {
  readonly #circuits: readonly AnyCircuit[]

  /** @throws ConfigurationError when an entry is not a circuit or two share a name. */
  constructor(circuits: Iterable<AnyCircuit>) {
    const list = [...circuits]
    const names = new Set<string>()
    list.forEach((circuit, i) => {
      if (typeof circuit !== 'object' || circuit === null || typeof (circuit as { call?: unknown }).call !== 'function') {
        throw new ConfigurationError(`circuits[${i}]`, 'must be a Circuit', circuit)
      }
      if (names.has(circuit.name)) throw new ConfigurationError(`circuits[${i}]`, 'repeats a circuit name', circuit.name)
      names.add(circuit.name)
    })
    this.#circuits = list
  }

  /** The circuits, in the order given. */
  get circuits(): readonly AnyCircuit[] {
    return this.#circuits
  }

  /** Each circuit's last known state, by name, without asking storage. */
  status(): Record<string, CircuitState> {
    return Object.fromEntries(this.#circuits.map((c) => [c.name, c.state]))
  }

  /** True when every circuit's last known state is closed. */
  get allClosed(): boolean {
    return this.#circuits.every((c) => c.state === 'closed')
  }

  /** Names of the circuits whose last known state is open. */
  get open(): string[] {
    return this.#circuits.filter((c) => c.state === 'open').map((c) => c.name)
  }

  /** Each circuit's stats, by name, read from storage now. */
  async stats(): Promise<Record<string, CircuitStats>> {
    const all = await Promise.all(this.#circuits.map(async (c) => [c.name, await c.stats()] as const))
    return Object.fromEntries(all)
  }

  /** Opens every circuit. */
  async forceOpen(): Promise<void> {
    await Promise.all(this.#circuits.map((c) => c.forceOpen()))
  }

  /** Closes every circuit. */
  async forceClose(): Promise<void> {
    await Promise.all(this.#circuits.map((c) => c.forceClose()))
  }

  /** Soft-resets every circuit. */
  async reset(): Promise<void> {
    await Promise.all(this.#circuits.map((c) => c.reset()))
  }

  /** Hard-resets every circuit. */
  async hardReset(): Promise<void> {
    await Promise.all(this.#circuits.map((c) => c.hardReset()))
  }

  /** Holds every circuit open until the answer's `release()` (one hold per circuit). */
  async isolate(): Promise<IsolationHold> {
    const holds = await Promise.all(this.#circuits.map((c) => c.isolate()))
    return { release: async () => void (await Promise.all(holds.map((h) => h.release()))) }
  }
}
