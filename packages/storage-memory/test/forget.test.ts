import { fileURLToPath } from 'node:url'
import { MemoryStorage } from '@breaker/storage-memory'
import { describeForgetting } from './support/forget-scenario.js'

describeForgetting(
  'MemoryStorage',
  (clock) => new MemoryStorage({ clock }),
  { module: fileURLToPath(new URL('../dist/index.js', import.meta.url)), export: 'MemoryStorage' },
  610, // names with counts still inside the 60 s window: 601, plus a few
)
