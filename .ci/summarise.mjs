// Sums vitest JSON reports into the one line CI reads: "tests: N passed, N failed".
// A suite that produced no report (it crashed) counts as one failure.
import { existsSync, readFileSync } from 'node:fs'

const dir = process.argv[2] ?? '.ci/out'
const suites = ['static', 'embedded', 'demo', 'observability', 'pg15']
// The failing tests are named here, at the end, because CI keeps only the tail of the output.
const firstLine = (text) =>
  String(text ?? '')
    .split('\n')
    .find((line) => line.trim() !== '')
    ?.slice(0, 300) ?? ''
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
  const suiteFailed =
    report.numFailedTests +
    (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0)
  console.log(`${suite}: ${report.numPassedTests} passed, ${suiteFailed} failed, ${report.numPendingTests} skipped`)
  for (const file of report.testResults ?? []) {
    const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed')
    if (failedTests.length === 0 && file.status === 'failed') {
      console.log(`  FAILED ${file.name}: ${firstLine(file.message)}`)
    }
    for (const t of failedTests) {
      console.log(`  FAILED ${file.name} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`)
    }
  }
  passed += report.numPassedTests
  failed += suiteFailed
}
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
