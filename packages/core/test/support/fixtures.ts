import { Circuit } from '../../src/index.js'
import type { CircuitOptions } from '../../src/index.js'
import { manualClock } from './clock.js'
import { MapStorage } from './map-storage.js'
import type { MapStorageOptions } from './map-storage.js'

let n = 0
/** A unique circuit name per test. */
export const uniqueName = (prefix = 'c') => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`

/** A circuit on a fresh MapStorage with a manual clock, outside the default registry. */
export function setup<T = never>(options: CircuitOptions<T> = {}, storageOptions: Partial<MapStorageOptions> = {}) {
  const clock = manualClock()
  const storage = new MapStorage({ clock, ...storageOptions })
  const circuit = new Circuit<T>(uniqueName(), { storage, clock, registry: false, jitter: 0, ...options })
  return { clock, storage, circuit }
}

export const fail = (message = 'boom') => () => Promise.reject(new Error(message))
export const ok = <T>(value: T) => () => Promise.resolve(value)

/** Runs `fn` through the circuit and answers the error, or fails the test if it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to reject')
}
