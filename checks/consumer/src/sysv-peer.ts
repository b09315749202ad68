// Another process on the same host: opens the segment at argv[2] and reports whether circuit
// argv[3] turns its call away. smoke.ts runs it after tripping that circuit in its own process.
import { Circuit, isCircuitOpenError } from '@breaker/core'
import { SysVStorage } from '@breaker/storage-sysv'

const [path, name] = process.argv.slice(2)
if (!path || !name) throw new Error('usage: node dist/sysv-peer.js <segment path> <circuit name>')
const storage = new SysVStorage({ path })
const circuit = new Circuit(name, { storage, threshold: { failures: 2, within: 60_000 }, resetAfter: 60_000, registry: false })
const outcome = await circuit.call(() => 'ran').then(
  (value) => value,
  (error: unknown) => (isCircuitOpenError(error) ? 'rejected' : `failed: ${String(error)}`),
)
await circuit.dispose()
await storage.close()
console.log(outcome)
