import type { StatusRecord, WindowCounts } from '@breaker/core'
import { invalidRecordReason } from './documents.js'
import { argumentError } from './errors.js'

// Checks on what a contract method is called with, made before any command is sent. TypeScript
// already says `circuit: string`, but names often come from configuration or JSON at run time,
// and an object such as `{ $gt: '' }` in a filter would be an operator: so it is checked here.

/** The circuit name, which must be a string (used only as a value in filters). */
export function checkName(storage: string, operation: string, circuit: unknown): string {
  if (typeof circuit !== 'string') throw argumentError(storage, operation, 'circuit name must be a string', circuit)
  return circuit
}

/** A well-formed status record, so the storage never writes a document it would read as corrupt. */
export function checkRecord(storage: string, operation: string, circuit: string, record: StatusRecord): StatusRecord {
  const reason = invalidRecordReason(record)
  if (reason !== null) throw argumentError(storage, operation, `record is not a status record (${reason})`, record, circuit)
  return record
}

/** A window in ms: 0 (the current second only) up to Infinity (everything kept). */
export function checkWindow(storage: string, operation: string, circuit: string, windowMs: number): void {
  if (typeof windowMs !== 'number' || Number.isNaN(windowMs) || windowMs < 0) {
    throw argumentError(storage, operation, 'windowMs must be a non-negative number of milliseconds', windowMs, circuit)
  }
}

/** Counts to add: non-negative integers, so `$inc` gets plain numbers and never an operator. */
export function checkBatch(storage: string, operation: string, circuit: string, batch: WindowCounts): void {
  for (const key of ['failures', 'successes'] as const) {
    const value: unknown = (batch as Partial<WindowCounts> | null | undefined)?.[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw argumentError(storage, operation, `${key} must be a non-negative integer`, value, circuit)
    }
  }
}

/** The epoch a compare-and-set expects: a number, never an object that could be an operator. */
export function checkExpectedEpoch(storage: string, circuit: string, expectedEpoch: number): void {
  if (typeof expectedEpoch !== 'number' || !Number.isFinite(expectedEpoch) || expectedEpoch < 0) {
    throw argumentError(storage, 'compareAndSetStatus', 'expectedEpoch must be a non-negative number', expectedEpoch, circuit)
  }
}

/** `max` permits (a non-negative integer) lasting `ttlMs` (positive ms). */
export function checkLease(storage: string, circuit: string, max: number, ttlMs: number): void {
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) {
    throw argumentError(storage, 'acquireProbe', 'max must be a non-negative integer', max, circuit)
  }
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw argumentError(storage, 'acquireProbe', 'ttlMs must be a positive number of milliseconds', ttlMs, circuit)
  }
}
