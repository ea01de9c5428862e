// Sums vitest JSON reports into the one line CI reads: "tests: N passed, N failed".
// A suite that produced no report (it crashed) counts as one failure.
import { existsSync, readFileSync } from 'node:fs'

const dir = process.argv[2] ?? '.ci/out'
const suites = ['embedded', 'demo', 'observability', 'pg15']
let passed = 0
let failed = 0
for (const suite of suites) {
  const file = `${dir}/${suite}.json`
  if (!existsSync(file)) {
    console.log(`${suite}: no report (the run crashed or was skipped)`)
    failed += 1
    continue
  }
  const report = JSON.parse(readFileSync(file, 'utf8'))
  const suiteFailed = report.numFailedTests + (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0)
  console.log(`${suite}: ${report.numPassedTests} passed, ${suiteFailed} failed, ${report.numPendingTests} skipped`)
  passed += report.numPassedTests
  failed += suiteFailed
}
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
