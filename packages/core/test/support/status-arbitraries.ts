import fc from 'fast-check'
import type { StatusRecord } from '../../src/index.js'

// Shared by the property tests of every backend that decodes stored statuses.

/** An optional counter core may write: absent, 0 (left out when stored) or any count. */
const optionalCounter = fc.oneof(fc.constant(undefined), fc.constant(0), fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER))

/** A status record core could write: any state, epoch and time, the optional counters absent, 0 or any count. */
export const validRecord: fc.Arbitrary<StatusRecord> = fc
  .record({ status: fc.constantFrom('closed', 'open', 'half_open'), at: fc.nat({ max: 8_640_000_000_000_000 }), epoch: fc.nat(), backoff: optionalCounter, holds: optionalCounter })
  .map(({ status, at, epoch, backoff, holds }): StatusRecord => ({
    status,
    openedAt: status === 'closed' ? null : at,
    epoch,
    updatedAt: at,
    ...(backoff === undefined ? {} : { backoff }),
    ...(holds === undefined ? {} : { holds }),
  }))

/** What reading `record` back must give: counters of 0 are left out. */
export function minimal(record: StatusRecord): StatusRecord {
  const { backoff, holds, ...rest } = record
  return { ...rest, ...(backoff ? { backoff } : {}), ...(holds ? { holds } : {}) }
}
