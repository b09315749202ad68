import type {
  StorageChainOperationMessage,
  StorageFallbackMessage,
  StorageOperationMessage,
} from '@breaker/core'
import type { Attributes, Histogram } from '@opentelemetry/api'
import { guard } from './guard.js'
import {
  ATTR_ERROR_TYPE,
  ATTR_STORAGE_BACKEND,
  ATTR_STORAGE_LAYER,
  ATTR_STORAGE_OPERATION,
  ERROR_TYPE_OTHER,
  STORAGE_LAYER_BACKEND,
  STORAGE_LAYER_CHAIN,
} from './semconv.js'

/**
 * Subscribers that feed `breaker.storage.duration` (seconds) from a fallback chain's messages:
 * every backend attempt (`breaker:storage:operation` when it answered, `breaker:storage:fallback`
 * when it failed, with `error.type`) and every whole chain operation
 * (`breaker:storage:chain_operation`). The two are told apart by `breaker.storage.layer`, so a
 * query never adds a chain's time to its backends' time.
 */
export function storageDurations(histogram: Histogram): {
  operation: (message: unknown) => void
  fallback: (message: unknown) => void
  chainOperation: (message: unknown) => void
} {
  const record = (durationMs: number, attributes: Attributes): void => {
    // A negative or non-finite duration (a clock step) would poison the histogram's sum. Core's
    // messages carry milliseconds; OpenTelemetry's conventions measure durations in seconds.
    if (Number.isFinite(durationMs) && durationMs >= 0) histogram.record(durationMs / 1000, attributes)
  }
  return {
    operation: guard('recording a storage duration', (m: StorageOperationMessage) => {
      record(m.durationMs, {
        [ATTR_STORAGE_BACKEND]: m.backend,
        [ATTR_STORAGE_OPERATION]: m.operation,
        [ATTR_STORAGE_LAYER]: STORAGE_LAYER_BACKEND,
      })
    }),
    fallback: guard('recording a storage duration', (m: StorageFallbackMessage) => {
      record(m.durationMs, {
        [ATTR_STORAGE_BACKEND]: m.backend,
        [ATTR_STORAGE_OPERATION]: m.operation,
        [ATTR_STORAGE_LAYER]: STORAGE_LAYER_BACKEND,
        [ATTR_ERROR_TYPE]: m.errorClass || ERROR_TYPE_OTHER,
      })
    }),
    chainOperation: guard('recording a storage duration', (m: StorageChainOperationMessage) => {
      const attributes: Attributes = {
        [ATTR_STORAGE_OPERATION]: m.operation,
        [ATTR_STORAGE_LAYER]: STORAGE_LAYER_CHAIN,
      }
      // The backend that answered; none when every backend failed.
      if (m.backend !== null) attributes[ATTR_STORAGE_BACKEND] = m.backend
      if (!m.success) attributes[ATTR_ERROR_TYPE] = ERROR_TYPE_OTHER
      record(m.durationMs, attributes)
    }),
  }
}
