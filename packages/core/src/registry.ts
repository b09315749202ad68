import type { Circuit, SyncInput } from './circuit.js'

/** A circuit whatever its fallback type. */
type AnyCircuit = Circuit<unknown>
import { assertStorage } from './config.js'
import { ConfigurationError } from './errors.js'
import { SNAPSHOT_VERSION, readSnapshot } from './snapshot.js'
import type { RegistrySnapshot } from './snapshot.js'
import type { Storage } from './storage.js'

/** What `importStates` did. */
export interface ImportResult {
  /** Circuits whose state was restored. */
  restored: string[]
  /** Names in the snapshot with no circuit in this registry. */
  skipped: string[]
}

/** Options of a registry. */
export interface RegistryOptions {
  /** Storage for circuits created without one. */
  defaultStorage?: Storage
}

/**
 * Circuits by name, with operations by name and snapshots of all of them as versioned plain JSON.
 * A circuit joins the default `registry` unless its options say otherwise.
 */
export class Registry {
  readonly #circuits = new Map<string, AnyCircuit>()
  /** Storage for circuits created without one. */
  defaultStorage: Storage | undefined

  constructor(options: RegistryOptions = {}) {
    if (options.defaultStorage !== undefined) assertStorage(options.defaultStorage, 'defaultStorage')
    this.defaultStorage = options.defaultStorage
  }

  /**
   * Adds a circuit (circuits do this themselves on construction).
   * @throws ConfigurationError when another circuit already holds the name.
   */
  register(circuit: AnyCircuit): void {
    const held = this.#circuits.get(circuit.name)
    if (held && held !== circuit) {
      throw new ConfigurationError(
        'name',
        'is already registered (pass registry: false for a second instance, or unregister the first)',
        circuit.name,
      )
    }
    this.#circuits.set(circuit.name, circuit)
  }

  /** Lets a circuit go; answers whether it was registered. */
  unregister(circuit: AnyCircuit | string): boolean {
    const name = typeof circuit === 'string' ? circuit : circuit.name
    const held = this.#circuits.get(name)
    if (!held || (typeof circuit !== 'string' && held !== circuit)) return false
    return this.#circuits.delete(name)
  }

  /** The circuit of that name, if registered. */
  get(name: string): AnyCircuit | undefined {
    return this.#circuits.get(name)
  }

  /** Every registered circuit. */
  all(): AnyCircuit[] {
    return [...this.#circuits.values()]
  }

  /** Runs `op` on the named circuit; an unknown name rejects (never throws from a Promise-returning method). */
  #on(name: string, op: (circuit: AnyCircuit) => Promise<void>): Promise<void> {
    const circuit = this.#circuits.get(name)
    if (!circuit) return Promise.reject(new ConfigurationError('name', 'is not a registered circuit', name))
    return op(circuit)
  }

  /** Opens the named circuit; rejects with ConfigurationError for an unknown name. */
  forceOpen(name: string): Promise<void> {
    return this.#on(name, (c) => c.forceOpen())
  }

  /** Closes the named circuit; rejects with ConfigurationError for an unknown name. */
  forceClose(name: string): Promise<void> {
    return this.#on(name, (c) => c.forceClose())
  }

  /** Soft-resets the named circuit; rejects with ConfigurationError for an unknown name. */
  reset(name: string): Promise<void> {
    return this.#on(name, (c) => c.reset())
  }

  /** Hard-resets the named circuit; rejects with ConfigurationError for an unknown name. */
  hardReset(name: string): Promise<void> {
    return this.#on(name, (c) => c.hardReset())
  }

  /**
   * Applies a transition received from elsewhere (the user's own bus) without firing hooks;
   * answers whether a circuit of that name exists here.
   * @throws ConfigurationError for a state or record that is not valid.
   */
  syncState(name: string, status: SyncInput): boolean {
    const circuit = this.#circuits.get(name)
    circuit?.syncState(status)
    return circuit !== undefined
  }

  /** Every circuit's state and counts as versioned plain JSON, ready for `JSON.stringify`. */
  async exportAll(clock: () => number = Date.now): Promise<RegistrySnapshot> {
    const circuits = await Promise.all(this.all().map((c) => c.snapshot()))
    return { version: SNAPSHOT_VERSION, exportedAt: clock(), circuits }
  }

  /**
   * Restores states from `exportAll()` output without firing hooks; names with no circuit here
   * are skipped and listed.
   * @throws ConfigurationError for an unknown version or a malformed entry (before anything is restored).
   */
  async importStates(snapshot: unknown): Promise<ImportResult> {
    const checked = readSnapshot(snapshot)
    const result: ImportResult = { restored: [], skipped: [] }
    for (const entry of checked.circuits) {
      const circuit = this.#circuits.get(entry.name)
      if (!circuit) {
        result.skipped.push(entry.name)
        continue
      }
      await circuit.restoreState(entry)
      result.restored.push(entry.name)
    }
    return result
  }
}

/** The registry circuits join unless their options name another (or `false`). */
export const defaultRegistry = new Registry()

/** Options of `configure`. */
export interface ConfigureOptions {
  /** Storage for every circuit created without one. */
  defaultStorage?: Storage
}

/** Sets registry-wide defaults on the default registry. @throws ConfigurationError for a storage that is not one. */
export function configure(options: ConfigureOptions): void {
  if (options.defaultStorage !== undefined) assertStorage(options.defaultStorage, 'defaultStorage')
  defaultRegistry.defaultStorage = options.defaultStorage
}
