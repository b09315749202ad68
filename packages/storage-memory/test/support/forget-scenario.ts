import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Outcome, ProbeLease, StatusRecord, WindowCounts } from '@breaker/core'

// One body for every in-process storage that forgets idle circuits (memory, bucket).
const START = Date.UTC(2026, 0, 1)
const WINDOW = 60_000

/** An in-process storage that releases idle circuits and says how many it holds (answers synchronously). */
export interface ForgettingStorage {
  readonly size: number
  retain(circuit: string): () => void
  record(circuit: string, outcome: Outcome, durationMs: number, windowMs: number): WindowCounts
  setStatus(circuit: string, record: StatusRecord): void
  getStatus(circuit: string): StatusRecord | null
  acquireProbe(circuit: string, max: number, ttlMs: number): ProbeLease | null
  failureCount(circuit: string, windowMs: number): number
}

/** Where the heap probe finds the storage class: a built module and its export. */
export interface HeapProbe {
  /** Absolute path of the built module (dist/index.js). */
  readonly module: string
  /** Name of the storage class it exports. */
  readonly export: string
}

function setup(make: (clock: () => number) => ForgettingStorage) {
  let now = START
  const storage = make(() => now)
  return { storage, advance: (ms: number) => void (now += ms) }
}

/** What a circuit does with its storage: retain at construction, record once, release at dispose. */
function useOnce(storage: ForgettingStorage, name: string): void {
  const release = storage.retain(name)
  storage.record(name, 'failure', 0, WINDOW)
  release()
}

export function describeForgetting(label: string, make: (clock: () => number) => ForgettingStorage, heap: HeapProbe, held: number): void {
  describe(`${label} forgets circuits nobody uses`, () => {
  it('keeps a bounded number of entries for 100 000 dynamic names, each used once and disposed', () => {
    const { storage, advance } = setup(make)
    let most = 0
    for (let i = 0; i < 100_000; i++) {
      useOnce(storage, `tenant-${i}`)
      advance(100) // ten new names a second
      most = Math.max(most, storage.size)
    }
    // Names whose counts are still inside the 60 s window (`held` of them, at the storage's
    // resolution) are kept, plus at most as many again waiting for the amortised re-check.
    expect(most).toBeLessThanOrEqual(2 * held)
  })

  it('drops an idle entry as soon as it is released when nothing in it is needed', () => {
    const { storage, advance } = setup(make)
    const release = storage.retain('a')
    storage.record('a', 'success', 0, WINDOW)
    advance(WINDOW + 1_000)
    expect(storage.size).toBe(1)
    release()
    expect(storage.size).toBe(0)
  })

  it('keeps a released entry while its window, an open status or a lease still needs it', () => {
    const { storage, advance } = setup(make)
    for (const name of ['counts', 'open', 'lease', 'retained-twice']) storage.record(name, 'failure', 0, WINDOW)
    storage.retain('counts')()
    storage.setStatus('open', { status: 'open', openedAt: START, epoch: 1, updatedAt: START })
    const lease = storage.acquireProbe('lease', 1, 3_600_000)
    storage.retain('lease')()
    storage.retain('open')()
    const first = storage.retain('retained-twice')
    const second = storage.retain('retained-twice')
    first()
    first() // releasing twice is harmless
    advance(WINDOW + 1_000)
    storage.record('trigger-1', 'success', 0, WINDOW) // new entries re-check released ones
    storage.record('trigger-2', 'success', 0, WINDOW)
    storage.record('trigger-3', 'success', 0, WINDOW)
    expect(storage.getStatus('open')?.status).toBe('open')
    expect(storage.size).toBe(6) // 'counts' went; the others stay
    lease?.release()
    second()
    for (let i = 4; i < 10; i++) storage.record(`trigger-${i}`, 'success', 0, WINDOW)
    expect(storage.size).toBe(10) // six more triggers; 'lease' and 'retained-twice' went
  })

  it('keeps counts a released name still has inside the window, for a circuit that comes back', () => {
    const { storage, advance } = setup(make)
    useOnce(storage, 'back')
    advance(10_000)
    for (let i = 0; i < 10; i++) useOnce(storage, `other-${i}`)
    expect(storage.failureCount('back', WINDOW)).toBe(1)
  })

  it('releases 100 000 names used once for a fraction of the heap they took before (measured with --expose-gc)', () => {
    const script = fileURLToPath(new URL('../fixtures/forget-heap.mjs', import.meta.url))
    const run = (mode: string) =>
      JSON.parse(execFileSync(process.execPath, ['--expose-gc', script, heap.module, heap.export, mode], { encoding: 'utf8' })) as { mib: number; size: number }
    const forgetting = run('retain')
    const keeping = run('no-retain')
    console.log(`${label}, 100 000 names: ${keeping.mib.toFixed(1)} MiB without retain, ${forgetting.mib.toFixed(1)} MiB with retain`)
    expect(forgetting.size).toBeLessThanOrEqual(2 * held)
    expect(forgetting.mib).toBeLessThan(12)
    expect(keeping.mib).toBeGreaterThan(10 * forgetting.mib)
  })
})
}
