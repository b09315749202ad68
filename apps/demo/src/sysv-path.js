import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A fresh directory whose inode keys this run's SysV segment. `ftok` keys come from the inode,
 * and a deleted directory's inode is reused, so a segment left behind by a killed earlier run
 * could share the key: `removeSegment()` clears it before anyone attaches. `remove()` deletes
 * the segment, then the directory; call it once every process has detached.
 */
export function makeSysvPath() {
  const path = mkdtempSync(join(tmpdir(), 'breaker-demo-'))
  const removeSegment = async () => {
    try {
      const { SysVStorage, isSupported } = await import('@breaker/storage-sysv')
      if (isSupported()) SysVStorage.remove(path)
    } catch {
      // No addon, no segment: nothing to remove.
    }
  }
  return {
    path,
    removeSegment,
    async remove() {
      await removeSegment()
      rmSync(path, { recursive: true, force: true })
    },
  }
}
