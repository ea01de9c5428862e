// Placeholder entry until the CLI lands (issue 5); the demo arrives in issue 7.
const command = process.argv[2]
if (command === 'demo') {
  console.log(`cutover demo (not built yet). When built, it will:
  1. start an embedded PostgreSQL in a temporary directory;
  2. create a legacy table and its new-shape shadow, and register the migration;
  3. run a simulated application writing and reading through the DAL;
  4. walk the cutover: dual write, backfill, verify, ramp 1 -> 100 %, shadow primary;
  5. corrupt a shadow row and show it caught, verified and repaired;
  6. slow the shadow down and show the guardrail rolling back by itself.`)
} else {
  console.error('cutover: the CLI is not built yet')
  process.exitCode = 2
}
