import { ConfigurationError } from './errors.js'
import { decodeStatus } from './kit/status-codec.js'
import { attempt } from './maybe.js'
import { phaseOf } from './state-machine.js'
import type { CircuitSnapshot } from './snapshot.js'
import type { StatusCache } from './status-cache.js'
import { readCounts, recordMany } from './storage-ops.js'
import type { HookRunner } from './hooks.js'
import type { CircuitState, MaybePromise, StatusRecord } from './types.js'

/** A shared status as `syncState` accepts it: a bare state, or (part of) a status record. */
export type SyncInput = CircuitState | (Partial<StatusRecord> & { status: CircuitState })

/** Clears everything storage holds for the circuit and writes closed under a newer epoch. */
export async function hardReset(cache: StatusCache, hooks: HookRunner, now: () => number): Promise<void> {
  const { io } = cache
  const before = await cache.fresh()
  try {
    await io.bound(io.storage.clear(io.circuit), 'clear')
  } catch (error) {
    io.failed('clear', error)
  }
  const next: StatusRecord = { status: 'closed', openedAt: null, epoch: before.record.epoch + 1, updatedAt: now() }
  try {
    await io.bound(io.storage.setStatus(io.circuit, next), 'setStatus')
  } catch (error) {
    io.failed('setStatus', error)
  }
  cache.set(phaseOf(next, false, cache.timing))
  if (before.state !== 'closed') hooks.transition({ circuit: io.circuit, from: before.state, to: 'closed', openedAt: null, epoch: next.epoch })
}

/** Writes a snapshot entry's status under a newer epoch and tops the counts up to its own, without hooks. */
export async function restore(cache: StatusCache, entry: CircuitSnapshot, within: number, now: number): Promise<void> {
  const { io } = cache
  const current = await cache.fresh()
  const next: StatusRecord = {
    status: entry.state,
    openedAt: entry.state === 'closed' ? null : (entry.openedAt ?? now),
    epoch: Math.max(entry.epoch, current.record.epoch + 1),
    updatedAt: now,
  }
  try {
    await io.bound(io.storage.setStatus(io.circuit, next), 'setStatus')
    // Topped up rather than added, so restoring the same snapshot twice counts nothing twice.
    const counts = await io.bound(readCounts(io.storage, io.circuit, within), 'failureCount')
    const missing = {
      failures: Math.max(0, entry.failureCount - counts.failures),
      successes: Math.max(0, entry.successCount - counts.successes),
    }
    if (missing.failures + missing.successes > 0) await io.bound(recordMany(io.storage, io.circuit, missing, within), 'recordBatch')
  } catch (error) {
    io.failed('restoreState', error)
  }
  cache.set(phaseOf(next, false, cache.timing))
}

/**
 * Checks what `syncState` received as strictly as a constructor would, and completes it from the
 * status known: a bare state moves one epoch on.
 * @throws ConfigurationError naming the field and the value received.
 */
export function readSyncInput(input: unknown, known: StatusRecord, now: number): StatusRecord {
  const given: Record<string, unknown> = typeof input === 'string' ? { status: input } : (input as Record<string, unknown>)
  if (typeof given !== 'object' || given === null) {
    throw new ConfigurationError('syncState', "must be a state ('closed', 'open', 'half_open') or a status record", input)
  }
  const status = given.status
  const candidate = {
    status,
    openedAt: 'openedAt' in given ? given.openedAt : status === 'closed' ? null : (known.openedAt ?? now),
    epoch: 'epoch' in given ? given.epoch : known.epoch + 1,
    updatedAt: 'updatedAt' in given ? given.updatedAt : now,
  }
  const decoded = decodeStatus(candidate)
  if ('corrupt' in decoded) throw new ConfigurationError('syncState', `is not a valid status: ${decoded.corrupt}`, input)
  // The decoder also reads numeric strings (as Redis stores them); a caller must pass numbers.
  for (const field of ['openedAt', 'epoch', 'updatedAt'] as const) {
    if (typeof given[field] === 'string') throw new ConfigurationError(`syncState.${field}`, 'must be a number', given[field])
  }
  return decoded.record
}

/**
 * Applies a status learned elsewhere without hooks; a record with an epoch not newer than the
 * one known is ignored. Answers the write to a process-local storage (this instance's own copy).
 */
export function sync(cache: StatusCache, record: StatusRecord, explicitEpoch: boolean): MaybePromise<void> {
  if (explicitEpoch && record.epoch <= cache.phase.record.epoch) return
  cache.set(phaseOf(record, false, cache.timing))
  const { io } = cache
  if (io.storage.capabilities.scope !== 'process') return
  return attempt(
    () => io.bound(io.storage.setStatus(io.circuit, record), 'setStatus'),
    (error) => void io.failed('setStatus', error),
  )
}
