// `pnpm bench`: runs every bench/*.bench.js in its own node process (so one benchmark's heap
// and JIT state cannot colour another's), in name order, core first. Pass names to pick some:
// `pnpm bench core storage-sysv`.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const picked = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => picked.length === 0 || picked.includes(f.replace('.bench.js', '')))
  .sort((a, b) => (a === 'core.bench.js' ? -1 : b === 'core.bench.js' ? 1 : a.localeCompare(b)))

let failed = 0
for (const file of files) {
  console.log(`\n━━ ${file} ━━`)
  const run = spawnSync(process.execPath, ['--expose-gc', join(here, file)], { stdio: 'inherit' })
  if (run.status !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
