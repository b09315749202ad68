import { randomUUID } from 'node:crypto'
import type { Collection, Document } from 'mongodb'
import { acquirePipeline, leaseFilter, releaseFilter, releaseUpdate } from './commands.js'
import { isDuplicateKey } from './errors.js'

/** A permit that was granted: its id and when it lapses (epoch ms). */
export interface GrantedLease {
  readonly id: string
  readonly expiresAt: number
}

/**
 * Asks for one of `max` probe permits of `circuit` with one `findOneAndUpdate` on the circuit's
 * lease document: lapsed permits are dropped and ours added only if fewer than `max` remain,
 * atomically on that one document. Answers the permit, or `null` when all are taken.
 */
export async function acquireLease(
  leases: Collection<Document>,
  circuit: string,
  max: number,
  ttlMs: number,
  nowMs: number,
): Promise<GrantedLease | null> {
  const holder = { id: randomUUID(), expiresAt: nowMs + ttlMs }
  const update = acquirePipeline(nowMs, max, holder)
  const options = { upsert: true, returnDocument: 'after' } as const
  let after: Document | null
  try {
    after = await leases.findOneAndUpdate(leaseFilter(circuit), update, options)
  } catch (error) {
    // Two first-ever acquires can both try to insert the document; the loser retries as an
    // update of the one that won (the server usually does this itself; this covers the rest).
    if (!isDuplicateKey(error)) throw error
    after = await leases.findOneAndUpdate(leaseFilter(circuit), update, options)
  }
  const holders: unknown = after?.['holders']
  const granted = Array.isArray(holders) && holders.some((h: { id?: unknown } | null) => h?.id === holder.id)
  return granted ? holder : null
}

/** Gives a permit back; releasing twice (or after it lapsed) matches nothing and does nothing. */
export async function releaseLease(leases: Collection<Document>, circuit: string, id: string): Promise<void> {
  await leases.updateOne(releaseFilter(circuit), releaseUpdate(id))
}
