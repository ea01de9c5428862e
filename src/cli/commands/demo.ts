import { defineCommand } from '../command.js'

export const demoCommand = defineCommand({
  command: 'demo',
  describe: 'Walk a whole cutover on an embedded PostgreSQL (not built yet: prints the plan)',
  epilog: 'Changes nothing outside its own temporary database.',
  needsDatabase: false,
  builder: (y) => y,
  run: async () => {
    process.stdout.write(`cutover demo (not built yet). When built, it will:
  1. start an embedded PostgreSQL in a temporary directory;
  2. create a legacy table and its new-shape shadow, and register the migration;
  3. run a simulated application writing and reading through the DAL;
  4. walk the cutover: dual write, backfill, verify, ramp 1 -> 100 %, shadow primary;
  5. corrupt a shadow row and show it caught, verified and repaired;
  6. slow the shadow down and show the guardrail rolling back by itself.
`)
  },
})
