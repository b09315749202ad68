import { describe, expect, it } from 'vitest'
import { LeaseTable, StatusListeners } from '../src/index.js'
import type { StorageNotice } from '../src/index.js'

describe('LeaseTable', () => {
  it('hands out at most max permits, frees one on release, and lets lapsed ones go', () => {
    const table = new LeaseTable()
    const a = table.acquire('a', 0, 2, 100)!
    expect(table.acquire('b', 0, 2, 100)).not.toBeNull()
    expect(table.acquire('c', 50, 2, 100)).toBeNull()
    a.release()
    a.release() // a second release is harmless
    expect(table.acquire('d', 50, 2, 100)).toMatchObject({ id: 'd', expiresAt: 150 })
    expect(table.acquire('e', 100, 2, 100)).not.toBeNull() // 'b' lapsed at 100
    expect(table.size).toBe(2)
  })
})

describe('StatusListeners', () => {
  it('tells every listener, survives one that throws, and stops telling a removed one', () => {
    const listeners = new StatusListeners()
    const seen: StorageNotice[] = []
    listeners.add(() => {
      throw new Error('bad listener')
    })
    const remove = listeners.add((change) => void seen.push(change))
    const record = { status: 'open' as const, openedAt: 1, epoch: 1, updatedAt: 1 }
    listeners.notify('c', record)
    remove()
    listeners.notify('c', record)
    expect(seen).toEqual([{ circuit: 'c', record }])
    expect(listeners.size).toBe(1)
  })

  it('sends resync notices for every circuit or for one', () => {
    const listeners = new StatusListeners()
    const seen: StorageNotice[] = []
    listeners.add((notice) => void seen.push(notice))
    listeners.resync()
    listeners.resync('c')
    expect(seen).toEqual([{ resync: true }, { resync: true, circuit: 'c' }])
  })
})
