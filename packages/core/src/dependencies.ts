import { ConfigurationError } from './errors.js'
import { andThen } from './maybe.js'
import type { CircuitRef } from './options.js'
import { admit } from './state-machine.js'
import type { Phase } from './state-machine.js'
import type { MaybePromise } from './types.js'

/** What a dependency check needs of another circuit: its name and its phase, read as its calls read it. */
export interface Dependable {
  readonly name: string
  /** The phase its next call would be admitted under (through its cache and storage). */
  readPhase(): MaybePromise<Phase>
}

/** Finds a circuit (by name, in the circuit's registry) as something whose phase can be read. */
export type DependencyLookup = (ref: CircuitRef) => Dependable | undefined

/**
 * The circuits a circuit depends on (`dependsOn`). Before each call, each one's status is read
 * the way its own calls read it — through its cache and storage, so a dependency open on
 * another instance counts — and the first that would reject a call right now is answered.
 */
export class Dependencies {
  constructor(
    readonly circuit: string,
    readonly refs: readonly CircuitRef[],
    readonly lookup: DependencyLookup,
  ) {}

  /** Name of the first dependency that is open now (epoch ms), or `undefined` when none is. */
  blocking(now: number, index = 0): MaybePromise<string | undefined> {
    for (let i = index; i < this.refs.length; i++) {
      const ref = this.refs[i]!
      const dependency = this.lookup(ref)
      if (dependency === undefined) {
        throw new ConfigurationError(`dependsOn[${i}]`, `of circuit '${this.circuit}' names no registered circuit`, ref)
      }
      const phase = dependency.readPhase()
      if (typeof (phase as { then?: unknown }).then === 'function') {
        return andThen(phase, (p) => (admit(p, now) === 'reject' ? dependency.name : this.blocking(now, i + 1)))
      }
      if (admit(phase as Phase, now) === 'reject') return dependency.name
    }
    return undefined
  }
}
