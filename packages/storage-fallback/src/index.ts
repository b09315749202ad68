export { FallbackChainStorage } from './fallback-chain-storage.js'
export type { BackendHealthSnapshot } from './fallback-chain-storage.js'
export type {
  ChainDefinition,
  ChainEntry,
  ChainFactory,
  FallbackChainEventName,
  FallbackChainEvents,
  FallbackChainListener,
  FallbackChainOptions,
  NamedChain,
} from './options.js'
export type { WriteBackResult } from './write-back-runner.js'
