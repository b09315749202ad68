import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SysVStorage } from '@breaker/storage-sysv'
import type { SysVStorageOptions } from '@breaker/storage-sysv'

const made: { storage: SysVStorage; dir: string }[] = []

/** A fresh directory whose inode keys a segment no other test uses. */
export function freshPath(): string {
  return mkdtempSync(join(tmpdir(), 'breaker-sysv-test-'))
}

/** A storage on a fresh segment, remembered so `destroyAll` can remove it. */
export function freshStorage(options: Partial<SysVStorageOptions> = {}): SysVStorage {
  const dir = options.path ?? freshPath()
  const storage = new SysVStorage({ ...options, path: dir })
  made.push({ storage, dir })
  return storage
}

/** Removes every segment and directory made through `freshStorage` (afterEach / afterAll). */
export function destroyAll(): void {
  for (const { storage, dir } of made.splice(0)) {
    storage.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}
