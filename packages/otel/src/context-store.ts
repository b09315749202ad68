import { AsyncLocalStorage } from 'node:async_hooks'
import diagnostics from 'node:diagnostics_channel'
import { context } from '@opentelemetry/api'
import type { Context } from '@opentelemetry/api'

/**
 * What `TracingChannel#start.bindStore` is given so the call span becomes the active OpenTelemetry
 * context while the user's function runs (their own spans then nest under it).
 *
 * OpenTelemetry keeps its AsyncLocalStorage private (open-telemetry/opentelemetry-js#6088; Sentry
 * reads `_asyncLocalStorage` off the context manager). On the Node versions this package supports,
 * `runStores` only ever calls `store.run(value, next)`, so an object whose `run` is
 * `context.with(value, next)` is enough: public API only, and it follows whichever context manager
 * is registered at call time, even one registered after `instrumentBreakers()`.
 */
export interface ContextStore {
  run<R>(value: Context, next: () => R): R
}

/** A store that delegates to the global context manager through the public API; a new object each time. */
export function publicApiStore(): ContextStore {
  return { run: (value, next) => context.with(value, next) }
}

/**
 * Node ≥ 26.1 enters bound stores through scopes (`withStoreScope`, `AsyncLocalStorage#withScope`)
 * instead of `run`; a plain object cannot take part there, so only a real AsyncLocalStorage will do.
 */
export function channelsUseScopes(): boolean {
  return typeof (diagnostics.Channel.prototype as { withStoreScope?: unknown }).withStoreScope === 'function'
}

/** The AsyncLocalStorage of the registered context manager, when it has one (AsyncLocalStorageContextManager). */
export function contextManagerStorage(): AsyncLocalStorage<Context> | undefined {
  try {
    const manager = (context as unknown as { _getContextManager?: () => unknown })._getContextManager?.()
    const storage = (manager as { _asyncLocalStorage?: unknown } | undefined)?._asyncLocalStorage
    return storage instanceof AsyncLocalStorage ? (storage as AsyncLocalStorage<Context>) : undefined
  } catch {
    return undefined
  }
}

/**
 * Picks the store to bind: the public-API one where Node calls `run`; where Node uses scopes, the
 * context manager's own AsyncLocalStorage, or none at all (spans still start as children of the
 * caller's context, but the user's spans will not nest under them). That AsyncLocalStorage is one
 * object, so there only one instrumentation per process can bind it.
 */
export function chooseContextStore(scopes = channelsUseScopes()): ContextStore | AsyncLocalStorage<Context> | undefined {
  return scopes ? contextManagerStorage() : publicApiStore()
}
