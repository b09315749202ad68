import type { Registry } from '@breaker/core'
import type { Counter, Histogram, Meter, ObservableResult } from '@opentelemetry/api'
import { report } from './guard.js'
import {
  ATTR_CIRCUIT,
  METRIC_CALLS,
  METRIC_STATE,
  METRIC_STORAGE_DURATION,
  METRIC_STORAGE_FALLBACKS,
  METRIC_TRANSITIONS,
  STATE_VALUES,
} from './semconv.js'

/** Every metric instrument @breaker/otel records to. */
export interface Instruments {
  /** `breaker.calls`. */
  readonly calls: Counter
  /** `breaker.transitions`. */
  readonly transitions: Counter
  /** `breaker.storage.fallbacks`. */
  readonly storageFallbacks: Counter
  /** `breaker.storage.duration` (ms). */
  readonly storageDuration: Histogram
  /** Stops the `breaker.state` gauge from observing (instruments themselves cannot be removed). */
  stop(): void
}

// Storage operations range from microseconds (in-process) to the chain's deadlines (a few ms) and
// a slow network backend; the SDK's default boundaries start at 5 ms and would lump most together.
const STORAGE_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500]

/** Creates the instruments on `meter`; the state gauge reads `registry` on every collection. */
export function createInstruments(meter: Meter, registry: Registry): Instruments {
  const calls = meter.createCounter(METRIC_CALLS, {
    description: 'Protected calls, by circuit and outcome.',
    unit: '{call}',
  })
  const transitions = meter.createCounter(METRIC_TRANSITIONS, {
    description: 'Circuit state transitions made by this instance, by circuit, from and to.',
    unit: '{transition}',
  })
  const storageFallbacks = meter.createCounter(METRIC_STORAGE_FALLBACKS, {
    description: 'Times a fallback chain moved from a failing storage backend to the next.',
    unit: '{fallback}',
  })
  const storageDuration = meter.createHistogram(METRIC_STORAGE_DURATION, {
    description: 'Duration of storage operations, per backend attempt and per whole fallback chain operation.',
    unit: 'ms',
    advice: { explicitBucketBoundaries: STORAGE_BUCKETS_MS },
  })
  const state = meter.createObservableGauge(METRIC_STATE, {
    description: 'Last known state of each circuit: 0 closed, 1 half_open, 2 open.',
    unit: '{state}',
  })
  // `state` is each circuit's last known state, read without a storage round trip, so a
  // collection never waits on (or fails with) a backend.
  const observe = (result: ObservableResult): void => {
    try {
      for (const circuit of registry.all()) {
        result.observe(STATE_VALUES[circuit.state], { [ATTR_CIRCUIT]: circuit.name })
      }
    } catch (error) {
      report('observing circuit states', error)
    }
  }
  state.addCallback(observe)
  return {
    calls,
    transitions,
    storageFallbacks,
    storageDuration,
    stop: () => state.removeCallback(observe),
  }
}
