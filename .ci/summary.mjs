// Prints "N passed, N failed, N skipped" from vitest's JSON report; exits 1 when the run
// failed in any way (a failing test, or a test file that did not even load).
import { readFileSync } from 'node:fs'

const file = process.argv[2]
let report
try {
  report = JSON.parse(readFileSync(file, 'utf8'))
} catch (error) {
  console.log(`no vitest report at ${file}: ${error.message}`)
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
const failedFiles = (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0)
for (const r of failedFiles) console.log(`test file failed to run: ${r.name}: ${(r.message ?? '').split('\n')[0]}`)
const failed = report.numFailedTests + failedFiles.length
console.log(`${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || report.success === false || report.numTotalTests === 0 ? 1 : 0)
