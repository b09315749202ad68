import diagnostics from 'node:diagnostics_channel'
import { CHANNELS, ConfigurationError } from '@breaker/core'
import type { HookErrorMessage } from '@breaker/core'
import type { FallbackChainEventName, FallbackChainEvents, FallbackChainListener } from './options.js'

// Channels are created by name: Node hands back the same object core and subscribers use.
const CHANNEL: { readonly [E in FallbackChainEventName]: diagnostics.Channel } = {
  operation: diagnostics.channel(CHANNELS.storageOperation),
  fallback: diagnostics.channel(CHANNELS.storageFallback),
  backend_skipped: diagnostics.channel(CHANNELS.storageBackendSkipped),
  backend_health: diagnostics.channel(CHANNELS.storageBackendHealth),
  chain_operation: diagnostics.channel(CHANNELS.storageChainOperation),
}
const hookErrors = diagnostics.channel(CHANNELS.hookError)

type Listeners = { [E in FallbackChainEventName]?: Set<FallbackChainListener<E>> }

/**
 * The chain's events: each goes to the chain's own listeners and to its diagnostics channel.
 * Callers ask {@link wants} before building a message, so an unobserved chain builds none and
 * never reads a timer for a `durationMs` nobody will see.
 */
export class ChainEvents {
  private readonly listeners: Listeners = {}
  private listenerCount = 0

  /** True when an event of this name would reach anyone. */
  wants(name: FallbackChainEventName): boolean {
    return CHANNEL[name].hasSubscribers || (this.listenerCount > 0 && (this.listeners[name]?.size ?? 0) > 0)
  }

  /** True when any event that carries a duration would reach anyone: then operations are timed. */
  get timed(): boolean {
    return this.wants('operation') || this.wants('fallback') || this.wants('chain_operation')
  }

  /** Delivers one event. A listener that throws is reported on `breaker:circuit:hook_error`, never to the caller. */
  emit<E extends FallbackChainEventName>(name: E, message: FallbackChainEvents[E]): void {
    const channel = CHANNEL[name]
    if (channel.hasSubscribers) channel.publish(message)
    const set = this.listeners[name]
    if (set === undefined || set.size === 0) return
    for (const listener of set) {
      try {
        listener(message)
      } catch (error) {
        if (hookErrors.hasSubscribers) {
          const report: HookErrorMessage = {
            circuit: (message as { circuit?: string }).circuit ?? '',
            hook: name,
            error,
          }
          hookErrors.publish(report)
        }
      }
    }
  }

  /**
   * Adds a listener; answers the function that removes it.
   * @throws ConfigurationError for a name that is not a chain event (such as the old `storage_fallback`), or a listener that is not a function.
   */
  on<E extends FallbackChainEventName>(name: E, listener: FallbackChainListener<E>): () => void {
    if (!Object.hasOwn(CHANNEL, name)) {
      const bare = typeof name === 'string' ? name.replace(/^storage_/, '') : ''
      const hint = Object.hasOwn(CHANNEL, bare) ? ` (did you mean '${bare}'?)` : ''
      throw new ConfigurationError('event', `must be one of ${Object.keys(CHANNEL).join(', ')}${hint}`, name, '@breaker/storage-fallback')
    }
    if (typeof listener !== 'function') {
      throw new ConfigurationError('listener', 'must be a function', listener, '@breaker/storage-fallback')
    }
    let set = this.listeners[name] as Set<FallbackChainListener<E>> | undefined
    if (set === undefined) {
      set = new Set()
      ;(this.listeners as Record<string, Set<FallbackChainListener<E>>>)[name] = set
    }
    if (!set.has(listener)) {
      set.add(listener)
      this.listenerCount++
    }
    return () => {
      if (set.delete(listener)) this.listenerCount--
    }
  }
}
