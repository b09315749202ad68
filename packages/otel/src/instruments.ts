import type { CallOutcome, Registry } from '@breaker/core'
import type { Counter, Histogram, Meter, ObservableResult } from '@opentelemetry/api'
import { report } from './guard.js'
import {
  ATTR_CIRCUIT,
  ATTR_OUTCOME,
  METRIC_CALLS,
  METRIC_STATE,
  METRIC_STORAGE_DURATION,
  METRIC_STORAGE_FALLBACKS,
  METRIC_TRANSITIONS,
  STATE_VALUES,
  STORAGE_DURATION_BUCKETS,
} from './semconv.js'

/** Every metric instrument @breaker/otel records to. */
export interface Instruments {
  /** Counts one settled call into `breaker.calls`. */
  countCall(circuit: string, outcome: CallOutcome): void
  /** `breaker.transitions`. */
  readonly transitions: Counter
  /** `breaker.storage.fallbacks`. */
  readonly storageFallbacks: Counter
  /** `breaker.storage.duration` (seconds, as the OpenTelemetry conventions measure durations). */
  readonly storageDuration: Histogram
  /**
   * Stops the observable instruments (instruments themselves cannot be removed): the state gauge at
   * once, the call totals after one last collection.
   */
  stop(): void
}

const OUTCOMES: readonly CallOutcome[] = ['success', 'failure', 'rejected', 'timeout', 'fallback']
const OUTCOME_INDEX: Readonly<Record<CallOutcome, number>> = { success: 0, failure: 1, rejected: 2, timeout: 3, fallback: 4 }

/**
 * Running totals of calls per circuit and outcome. `breaker.calls` is observed from these at
 * collection time instead of being a synchronous counter: the SDK hashes the attributes of every
 * synchronous measurement (≈3 µs, more than the whole untraced call), while this is one map
 * lookup and one increment per call. The exported data is the same monotonic sum.
 */
class CallTotals {
  readonly #rows = new Map<string, Float64Array>()

  add(circuit: string, outcome: CallOutcome): void {
    let row = this.#rows.get(circuit)
    if (row === undefined) this.#rows.set(circuit, (row = new Float64Array(OUTCOMES.length)))
    row[OUTCOME_INDEX[outcome] ?? OUTCOME_INDEX.failure]!++
  }

  observe(result: ObservableResult): void {
    for (const [circuit, row] of this.#rows) {
      for (let i = 0; i < OUTCOMES.length; i++) {
        if (row[i]! > 0) result.observe(row[i]!, { [ATTR_CIRCUIT]: circuit, [ATTR_OUTCOME]: OUTCOMES[i]! })
      }
    }
  }
}

/** Creates the instruments on `meter`; the state gauge reads `registry` on every collection. */
export function createInstruments(meter: Meter, registry: Registry): Instruments {
  const calls = meter.createObservableCounter(METRIC_CALLS, {
    description: 'Protected calls, by circuit and outcome.',
    unit: '{call}',
  })
  const totals = new CallTotals()
  let stopped = false
  const observeCalls = (result: ObservableResult): void => {
    try {
      totals.observe(result)
    } catch (error) {
      report('observing call counts', error)
    }
    // After disable(), the totals are reported once more so calls counted before it are not lost,
    // then the callback goes (after this collection's loop over callbacks, not during it).
    if (stopped) queueMicrotask(() => calls.removeCallback(observeCalls))
  }
  calls.addCallback(observeCalls)
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
    unit: 's',
    advice: { explicitBucketBoundaries: [...STORAGE_DURATION_BUCKETS] },
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
    countCall: (circuit, outcome) => totals.add(circuit, outcome),
    transitions,
    storageFallbacks,
    storageDuration,
    stop: () => {
      stopped = true
      state.removeCallback(observe)
    },
  }
}
