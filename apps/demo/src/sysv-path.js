import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A fresh directory whose inode keys this run's SysV segment, so a segment left by an earlier
 * run (or another demo) is never picked up. `remove()` deletes the segment, then the directory;
 * call it once every process has detached.
 */
export function makeSysvPath() {
  const path = mkdtempSync(join(tmpdir(), 'breaker-demo-'))
  return {
    path,
    async remove() {
      try {
        const { SysVStorage, isSupported } = await import('@breaker/storage-sysv')
        if (isSupported()) SysVStorage.remove(path)
      } catch {
        // No addon, no segment: nothing to remove.
      }
      rmSync(path, { recursive: true, force: true })
    },
  }
}
