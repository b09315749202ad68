import type { ConformanceCheck } from '../check.js'

/**
 * `retain(circuit)`: a storage that keeps per-circuit memory may release an entry once no live
 * circuit retains its name — but never what a window, an opening or a permit still needs.
 */
export const retainChecks: readonly ConformanceCheck[] = [
  {
    group: 'retain',
    title: 'retain answers a release that may be called twice, and a retained circuit keeps its status and counts',
    requires: ['persistent', 'retain'],
    async run(env) {
      const name = env.circuit()
      const release = env.storage.retain!(name)
      env.expect(typeof release).toBe('function')
      const record = env.status('closed', 2)
      await env.storage.setStatus(name, record)
      await env.storage.recordFailure(name, 1)
      for (let i = 0; i < 20; i++) await env.storage.recordSuccess(env.circuit(`other-${i}`), 1)
      env.expect(await env.storage.getStatus(name)).toEqual(record)
      env.expect(await env.storage.failureCount(name, env.windowMs)).toBe(1)
      release()
      release()
    },
  },
  {
    group: 'retain',
    title: 'a released circuit keeps what is still needed: an open status and the counts inside its window',
    requires: ['persistent', 'retain'],
    async run(env) {
      const opened = env.circuit('opened')
      const counted = env.circuit('counted')
      const record = env.status('open', 1)
      for (const name of [opened, counted]) {
        const release = env.storage.retain!(name)
        await env.storage.failureCount(name, env.windowMs) // the window this circuit counts over
        if (name === opened) await env.storage.setStatus(name, record)
        else await env.storage.recordFailure(name, 1)
        release()
      }
      env.advance(env.windowMs / 2)
      // New circuits are when an in-process storage re-checks released ones.
      for (let i = 0; i < 20; i++) {
        const other = env.circuit(`other-${i}`)
        const release = env.storage.retain!(other)
        await env.storage.recordSuccess(other, 1)
        release()
      }
      env.expect(await env.storage.getStatus(opened)).toEqual(record)
      env.expect(await env.storage.failureCount(counted, env.windowMs)).toBe(1)
    },
  },
]
