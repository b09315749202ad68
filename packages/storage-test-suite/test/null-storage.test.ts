import { NullStorage } from '@breaker/core'
import { describe, expect, it } from 'vitest'
import { storageConformance } from '@breaker/storage-test-suite'

storageConformance({ describe, it, expect }, () => new NullStorage(), { name: 'null', persistent: false })
