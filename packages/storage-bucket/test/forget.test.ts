import { fileURLToPath } from 'node:url'
import { BucketMemoryStorage } from '@breaker/storage-bucket'
import { describeForgetting } from '../../storage-memory/test/support/forget-scenario.js'

describeForgetting(
  'BucketMemoryStorage',
  (clock) => new BucketMemoryStorage({ clock }),
  { module: fileURLToPath(new URL('../dist/index.js', import.meta.url)), export: 'BucketMemoryStorage' },
  610, // names with counts inside the 60 s window at one-second resolution: 610
)
