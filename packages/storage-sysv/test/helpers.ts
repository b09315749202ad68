import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SysVStorage } from '@breaker/storage-sysv'
import type { SysVStorageOptions } from '@breaker/storage-sysv'

const made: SysVStorage[] = []
const dirs: string[] = []

/** A fresh directory whose inode keys a segment no other test uses; removed by `destroyAll`. */
export function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'breaker-sysv-test-'))
  dirs.push(dir)
  return dir
}

/** A storage on a fresh segment, remembered so `destroyAll` can remove it. */
export function freshStorage(options: Partial<SysVStorageOptions> = {}): SysVStorage {
  const storage = new SysVStorage({ ...options, path: options.path ?? freshPath() })
  made.push(storage)
  return storage
}

/** Removes every segment and directory made through `freshStorage` (afterEach / afterAll). */
export function destroyAll(): void {
  for (const storage of made.splice(0)) storage.destroy()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}
