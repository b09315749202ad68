import type { CallPath } from './call-path.js'
import type { Circuit } from './circuit.js'
import { ConfigurationError } from './errors.js'
import type { CircuitRef } from './options.js'
import { defaultRegistry } from './registry.js'
import type { Registry } from './registry.js'

/** The circuit `ref` names: itself, or the one of that name in `registry` (the default registry when none). */
export function resolve(ref: CircuitRef, registry: Registry | undefined): Circuit<unknown> | undefined {
  return typeof ref === 'string' ? (registry ?? defaultRegistry).get(ref) : ref
}

/**
 * Opens the circuits of `cascadesTo` through their storage, since `circuit` just opened. Each
 * `forceOpen` is tracked by the opener's pending writes (so `flush()` waits for it); a failure,
 * or a name with no circuit, is reported as a hook error — a cascade never breaks a call.
 */
export function cascade(circuit: string, targets: readonly CircuitRef[], registry: Registry | undefined, path: CallPath<unknown>): void {
  for (const ref of targets) {
    const target = resolve(ref, registry)
    if (target === undefined) {
      path.hooks.error('cascadesTo', new ConfigurationError('cascadesTo', `of circuit '${circuit}' names no registered circuit`, ref))
      continue
    }
    path.pending.track(target.forceOpen().then(undefined, (error: unknown) => path.hooks.error('cascadesTo', error)))
  }
}
