import { NullStorage } from '@breaker/core'
import type { Clock, EventLogEntry, ProbeLease, StatusListener, StatusRecord, Storage, StorageCapabilities } from '@breaker/core'
import { describe, expect, it } from 'vitest'
import { conformanceChecks, runCheck } from '@breaker/storage-test-suite'
import type { ConformanceCheck, ConformanceOptions } from '@breaker/storage-test-suite'
import { ReferenceStorage } from './fixtures/reference-storage.js'

class CasAlwaysWins extends ReferenceStorage {
  override compareAndSetStatus(circuit: string, _expected: number, record: StatusRecord): boolean {
    this.setStatus(circuit, record)
    return true
  }
}

// Tells its listeners of a CAS write before checking whether the CAS may happen.
class CasNotifiesOnFailure extends ReferenceStorage {
  private readonly heard = new Set<StatusListener>()
  override subscribe(listener: StatusListener): () => void {
    this.heard.add(listener)
    const stop = super.subscribe(listener)
    return () => {
      this.heard.delete(listener)
      stop()
    }
  }
  override compareAndSetStatus(circuit: string, expected: number, record: StatusRecord): boolean {
    const won = (this.getStatus(circuit)?.epoch ?? 0) === expected
    if (!won) for (const listener of this.heard) listener({ circuit, record })
    return super.compareAndSetStatus(circuit, expected, record)
  }
}

class SetStatusKeepsHigherEpoch extends ReferenceStorage {
  override setStatus(circuit: string, record: StatusRecord): void {
    if ((this.getStatus(circuit)?.epoch ?? 0) > record.epoch) return
    super.setStatus(circuit, record)
  }
}

// Counts everything the storage keeps (an hour), whatever window is asked for.
class NeverExpires extends ReferenceStorage {
  override failureCount(circuit: string): number {
    return super.failureCount(circuit, Number.MAX_SAFE_INTEGER)
  }
  override successCount(circuit: string): number {
    return super.successCount(circuit, Number.MAX_SAFE_INTEGER)
  }
}

class WindowInSeconds extends ReferenceStorage {
  override failureCount(circuit: string, windowMs: number): number {
    return super.failureCount(circuit, windowMs * 1000)
  }
  override successCount(circuit: string, windowMs: number): number {
    return super.successCount(circuit, windowMs * 1000)
  }
}

// Leaves out what happened at this very millisecond (a window of 0 ms holds exactly that).
class ExcludesNow extends ReferenceStorage {
  override failureCount(circuit: string, windowMs: number): number {
    return super.failureCount(circuit, windowMs) - super.failureCount(circuit, 0)
  }
  override successCount(circuit: string, windowMs: number): number {
    return super.successCount(circuit, windowMs) - super.successCount(circuit, 0)
  }
}

class RecordAnswersBeforeWriting extends ReferenceStorage {
  override record(circuit: string, outcome: 'success' | 'failure', durationMs: number, windowMs: number) {
    const before = this.counts(circuit, windowMs)
    super.record(circuit, outcome, durationMs, windowMs)
    return before
  }
}

class BatchCountsOnlyFailures extends ReferenceStorage {
  override recordBatch(circuit: string, batch: { failures: number; successes: number }, windowMs: number) {
    return super.recordBatch(circuit, { failures: batch.failures, successes: 0 }, windowMs)
  }
}

// A key scheme that drops "odd" characters: distinct circuits collide.
class NamesCollide extends ReferenceStorage {
  private key = (name: string) => name.replace(/[^a-z0-9-]/gi, '')
  override getStatus(c: string) { return super.getStatus(this.key(c)) }
  override setStatus(c: string, r: StatusRecord) { super.setStatus(this.key(c), r) }
  override recordFailure(c: string, d: number) { super.recordFailure(this.key(c), d) }
  override failureCount(c: string, w: number) { return super.failureCount(this.key(c), w) }
  override clear(c: string) { super.clear(this.key(c)) }
}

// clear treats the name as a glob, like a careless SCAN MATCH.
class ClearIsAGlob extends ReferenceStorage {
  private readonly names = new Set<string>()
  override setStatus(circuit: string, record: StatusRecord): void {
    this.names.add(circuit)
    super.setStatus(circuit, record)
  }
  override recordFailure(circuit: string, durationMs: number): void {
    this.names.add(circuit)
    super.recordFailure(circuit, durationMs)
  }
  override clear(circuit: string): void {
    const escaped = circuit.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
    const pattern = new RegExp(`^${escaped}$`)
    for (const name of this.names) if (pattern.test(name)) super.clear(name)
  }
}

// Keeps statuses apart from counts, and clearAll forgets only the statuses.
class ClearAllKeepsCounts extends ReferenceStorage {
  private readonly statuses = new Map<string, StatusRecord>()
  override getStatus(circuit: string): StatusRecord | null {
    return this.statuses.get(circuit) ?? null
  }
  override setStatus(circuit: string, record: StatusRecord): void {
    this.statuses.set(circuit, record)
  }
  override clearAll(): void {
    this.statuses.clear()
  }
}

// Read, yield, write: concurrent writers overwrite each other.
class LosesConcurrentWrites extends ReferenceStorage {
  private tallies = new Map<string, number>()
  // Deliberately async and racy.
  override async recordFailure(circuit: string): Promise<void> {
    const current = this.tallies.get(circuit) ?? 0
    await new Promise((resolve) => setImmediate(resolve))
    this.tallies.set(circuit, current + 1)
  }
  override failureCount(circuit: string): number {
    return this.tallies.get(circuit) ?? 0
  }
}

class LeasesIgnoreMax extends ReferenceStorage {
  override acquireProbe(circuit: string, _max: number, ttlMs: number): ProbeLease | null {
    return super.acquireProbe(circuit, Number.POSITIVE_INFINITY, ttlMs)
  }
}

// Counts permits instead of tracking them: a second release frees a permit it never held.
class ReleaseCountsDown extends ReferenceStorage {
  private held = new Map<string, number>()
  override acquireProbe(circuit: string, max: number, ttlMs: number): ProbeLease | null {
    const count = this.held.get(circuit) ?? 0
    if (count >= max) return null
    this.held.set(circuit, count + 1)
    return { id: String(count), expiresAt: this.clock() + ttlMs, release: () => void this.held.set(circuit, (this.held.get(circuit) ?? 1) - 1) }
  }
}

class LeasesNeverLapse extends ReferenceStorage {
  override acquireProbe(circuit: string, max: number, ttlMs: number): ProbeLease | null {
    return super.acquireProbe(circuit, max, ttlMs * 1_000_000)
  }
}

class UnsubscribeDoesNothing extends ReferenceStorage {
  override subscribe(listener: StatusListener): () => void {
    super.subscribe(listener)
    return () => {}
  }
}

class EventLogOldestFirst extends ReferenceStorage {
  override eventLog(circuit: string, limit: number): EventLogEntry[] {
    return (this.events.get(circuit) ?? []).slice(0, limit)
  }
}

class BadCapabilities extends ReferenceStorage {
  override readonly capabilities = { scope: 'galaxy', atomic: true, cas: true, leases: true, subscribe: true } as unknown as StorageCapabilities
}

class ForgetfulButRemembers extends ReferenceStorage {}

// Passes status pushes on but swallows resync notices: listeners never hear of a clear.
class ClearTellsNobody extends ReferenceStorage {
  override subscribe(listener: StatusListener): () => void {
    return super.subscribe((notice) => {
      if (notice.resync !== true) listener(notice)
    })
  }
}

// Adds batches without saturating: past 2^53 the sums are no longer safe integers.
class BatchesOverflow extends ReferenceStorage {
  private sums = new Map<string, number>()
  override recordBatch(circuit: string, batch: { failures: number; successes: number }) {
    const sum = (this.sums.get(circuit) ?? 0) + batch.failures
    this.sums.set(circuit, sum)
    return { failures: sum, successes: batch.successes }
  }
  override failureCount(circuit: string): number {
    return this.sums.get(circuit) ?? 0
  }
}

// Declares 64-byte names but refuses a name of exactly 64 bytes.
class MaxNameOffByOne extends ReferenceStorage {
  override readonly capabilities: StorageCapabilities = { ...new ReferenceStorage(() => 0).capabilities, maxNameBytes: 64 }
  override setStatus(circuit: string, record: StatusRecord): void {
    if (Buffer.byteLength(circuit) >= 64) throw new Error('name too long')
    super.setStatus(circuit, record)
  }
}

// Releasing a name forgets everything it held, the open status and the window's counts too.
class ReleaseForgetsEverything extends ReferenceStorage {
  override retain(circuit: string): () => void {
    const release = super.retain(circuit)
    return () => {
      release()
      this.clear(circuit)
    }
  }
}

class MaxNameBytesZero extends ReferenceStorage {
  override readonly capabilities: StorageCapabilities = { ...new ReferenceStorage(() => 0).capabilities, maxNameBytes: 0 }
}

class EventLogDeclaredWithoutMethod extends ReferenceStorage {
  override readonly capabilities: StorageCapabilities = { ...new ReferenceStorage(() => 0).capabilities, eventLog: true }
  constructor(clock: Clock) {
    super(clock)
    Object.defineProperty(this, 'eventLog', { value: undefined })
  }
}

// Stores only the four original fields, like a backend written before backoff and holds existed.
function withoutCounters({ status, openedAt, epoch, updatedAt }: StatusRecord): StatusRecord {
  return { status, openedAt, epoch, updatedAt }
}
class DropsCounters extends ReferenceStorage {
  override setStatus(circuit: string, record: StatusRecord): void {
    super.setStatus(circuit, withoutCounters(record))
  }
  override compareAndSetStatus(circuit: string, expected: number, record: StatusRecord): boolean {
    return super.compareAndSetStatus(circuit, expected, withoutCounters(record))
  }
}

// Keeps the counters but writes 0 for absent ones: records no longer compare equal.
class CountersDefaultToZero extends ReferenceStorage {
  override getStatus(circuit: string): StatusRecord | null {
    const record = super.getStatus(circuit)
    return record === null ? null : { backoff: 0, holds: 0, ...record }
  }
}

// An update that sets fields but never removes one, like an HSET without HDEL: old counters stay.
class CountersLinger extends ReferenceStorage {
  override setStatus(circuit: string, record: StatusRecord): void {
    super.setStatus(circuit, { ...super.getStatus(circuit), ...record })
  }
  override compareAndSetStatus(circuit: string, expected: number, record: StatusRecord): boolean {
    return super.compareAndSetStatus(circuit, expected, { ...super.getStatus(circuit), ...record })
  }
}

// Persists the counters but pushes records without them, like a pub/sub message of four fields.
class PushesDropCounters extends ReferenceStorage {
  override subscribe(listener: StatusListener): () => void {
    return super.subscribe((notice) => listener(notice.resync === true ? notice : { circuit: notice.circuit, record: withoutCounters(notice.record) }))
  }
}

type Make = (clock: Clock) => Storage

// The same declaration, honoured: the correct counterpart of MaxNameOffByOne.
class MaxName64 extends ReferenceStorage {
  override readonly capabilities: StorageCapabilities = { ...new ReferenceStorage(() => 0).capabilities, maxNameBytes: 64 }
}

const cases: Array<[string, Make, string, ConformanceOptions?, Make?]> = [
  ['compareAndSetStatus always wins', (c) => new CasAlwaysWins(c), 'compareAndSetStatus answers false and writes nothing when the stored epoch differs'],
  ['compareAndSetStatus always wins (race)', (c) => new CasAlwaysWins(c), 'of 25 racing compareAndSetStatus calls with the stored epoch exactly one wins'],
  ['a failed CAS notifies', (c) => new CasNotifiesOnFailure(c), 'a failed compareAndSetStatus pushes nothing'],
  ['setStatus refuses a lower epoch', (c) => new SetStatusKeepsHigherEpoch(c), 'setStatus overwrites the previous record unconditionally (last writer wins, even a lower epoch)'],
  ['counts never expire', (c) => new NeverExpires(c), 'windowMs is in milliseconds: outcomes older than the window are no longer counted'],
  ['window read as seconds', (c) => new WindowInSeconds(c), 'a shorter window leaves out what a longer window includes'],
  ['now excluded from the window', (c) => new ExcludesNow(c), 'an outcome recorded at this very moment is counted (the window includes now)'],
  ['record answers before writing', (c) => new RecordAnswersBeforeWriting(c), 'record answers the counts over the window including the outcome it wrote'],
  ['recordBatch drops successes', (c) => new BatchCountsOnlyFailures(c), 'recordBatch answers the counts over the window including the whole batch'],
  ['names collide', (c) => new NamesCollide(c), 'names with *, :, {, }, spaces, regex characters and unicode are kept apart'],
  ['clear is a glob', (c) => new ClearIsAGlob(c), 'names with *, :, {, }, spaces, regex characters and unicode are kept apart'],
  ['clearAll keeps counts', (c) => new ClearAllKeepsCounts(c), 'clearAll forgets every circuit, and circuits work again afterwards'],
  ['concurrent writes lost', (c) => new LosesConcurrentWrites(c), '500 concurrent recordFailure/recordSuccess calls are all counted exactly'],
  ['leases ignore max', (c) => new LeasesIgnoreMax(c), 'acquireProbe hands out at most max permits and null beyond'],
  ['release counts down', (c) => new ReleaseCountsDown(c), 'releasing a permit twice frees only one permit'],
  ['leases never lapse', (c) => new LeasesNeverLapse(c), 'a permit lapses after ttlMs of injected time'],
  ['unsubscribe does nothing', (c) => new UnsubscribeDoesNothing(c), 'unsubscribe stops delivery to that listener only'],
  ['event log oldest first', (c) => new EventLogOldestFirst(c), 'eventLog answers the outcomes newest first with their type, time and duration'],
  ['capabilities malformed', (c) => new BadCapabilities(c), 'name is a non-empty string and capabilities is well formed'],
  ['clear tells nobody', (c) => new ClearTellsNobody(c), 'clear of a circuit tells listeners: { resync: true, circuit } (or a resync of every circuit, or a status)'],
  ['clearAll tells nobody', (c) => new ClearTellsNobody(c), 'clearAll tells listeners with a resync notice'],
  ['batches overflow', (c) => new BatchesOverflow(c), 'after batches of Number.MAX_SAFE_INTEGER, counts stay safe integers >= 0 and never decrease (they saturate)'],
  ['a name of maxNameBytes refused', (c) => new MaxNameOffByOne(c), 'a name of exactly capabilities.maxNameBytes UTF-8 bytes is kept, counted and cleared', {}, (c) => new MaxName64(c)],
  ['release forgets everything', (c) => new ReleaseForgetsEverything(c), 'a released circuit keeps what is still needed: an open status and the counts inside its window'],
  ['maxNameBytes 0', (c) => new MaxNameBytesZero(c), 'optional declarations are well formed: stateless, eventLog and signal booleans, maxNameBytes a positive safe integer'],
  ['eventLog declared without the method', (c) => new EventLogDeclaredWithoutMethod(c), 'capabilities.eventLog comes with an eventLog method; ready() answers a boolean; retain, when offered, is a function'],
  ['backoff and holds dropped', (c) => new DropsCounters(c), 'getStatus answers backoff and holds exactly as setStatus wrote them'],
  ['backoff and holds dropped by CAS', (c) => new DropsCounters(c), 'compareAndSetStatus writes backoff and holds as given, and a record without them clears them'],
  ['backoff and holds dropped from pushes', (c) => new PushesDropCounters(c), 'pushes carry backoff and holds as written by setStatus, and none when the record has none'],
  ['backoff and holds dropped from CAS pushes', (c) => new PushesDropCounters(c), 'pushes carry backoff and holds as written by a successful compareAndSetStatus'],
  ['absent counters read back as 0', (c) => new CountersDefaultToZero(c), 'a record written without backoff and holds reads back without them (no backoff: 0 added), even over one that had them'],
  ['old counters linger after an overwrite', (c) => new CountersLinger(c), 'a record written without backoff and holds reads back without them (no backoff: 0 added), even over one that had them'],
  ['old counters linger after a CAS', (c) => new CountersLinger(c), 'compareAndSetStatus writes backoff and holds as given, and a record without them clears them'],
  ['declared forgetful but remembers', (c) => new ForgetfulButRemembers(c), 'every method answers null, 0 or nothing without throwing (persistent: false)', { persistent: false }],
]

function find(title: string): ConformanceCheck {
  const check = conformanceChecks.find((candidate) => candidate.title === title)
  if (!check) throw new Error(`no check titled ${title}`)
  return check
}

describe('the suite fails against broken storages', () => {
  for (const [what, make, title, options, counterpart] of cases) {
    it(`fails when ${what}: "${title}"`, async () => {
      const check = find(title)
      await expect(runCheck(check, ({ clock }) => make(clock), options, expect)).rejects.toThrow()
      // The same check passes against a correct storage, so the failure is the bug's.
      const correct: Make = counterpart ?? (options?.persistent === false ? () => new NullStorage() : (clock) => new ReferenceStorage(clock))
      await runCheck(check, ({ clock }) => correct(clock), options, expect)
    })
  }
})

describe('runCheck', () => {
  it('rejects, naming the reason, when the check does not apply to the storage', async () => {
    const check = find('acquireProbe hands out at most max permits and null beyond')
    class NoLeases extends ReferenceStorage {
      override readonly capabilities = { ...new ReferenceStorage(() => 0).capabilities, leases: false }
    }
    await expect(runCheck(check, ({ clock }) => new NoLeases(clock), undefined, expect)).rejects.toThrow(
      'capabilities.leases is false',
    )
  })

  it('rejects options out of range with a ConfigurationError naming the option', async () => {
    const check = find('counts are 0 for a circuit never written')
    await expect(runCheck(check, ({ clock }) => new ReferenceStorage(clock), { granularityMs: 0 }, expect)).rejects.toThrow(
      /granularityMs must be a finite number of milliseconds >= 1, got 0/,
    )
    await expect(
      runCheck(check, ({ clock }) => new ReferenceStorage(clock), { granularityMs: 1000, maxWindowMs: 2000 }, expect),
    ).rejects.toThrow(/maxWindowMs/)
  })

  it('tears each store down after the check, by default through close()', async () => {
    let closed = 0
    class Closable extends ReferenceStorage {
      async close(): Promise<void> {
        closed += 1
      }
    }
    await runCheck(find('counts are 0 for a circuit never written'), ({ clock }) => new Closable(clock), undefined, expect)
    expect(closed).toBe(1)
    let tornDown = 0
    await runCheck(find('counts are 0 for a circuit never written'), ({ clock }) => new Closable(clock), { teardown: () => void (tornDown += 1) }, expect)
    expect([closed, tornDown]).toEqual([1, 1])
  })
})
