import { defineCommand } from '../command.js'
import { onInterrupt } from '../interrupt.js'

export const demoCommand = defineCommand<{ quick: boolean; 'metrics-port': number; 'linger-seconds': number }>({
  command: 'demo',
  describe: 'Walk a whole cutover on an embedded PostgreSQL, with a simulated application running',
  epilog:
    'Changes nothing outside its own temporary database (with --database-url: a database it creates and drops). Ctrl-C cleans up. The embedded PostgreSQL is a development dependency: where cutover was installed as a package, pass --database-url.',
  needsDatabase: false,
  builder: (y) =>
    y
      .option('quick', { type: 'boolean', default: false, describe: 'less data and shorter pauses (for tests and CI)' })
      .option('metrics-port', {
        type: 'number',
        default: 0,
        describe: "serve the application's /metrics on this port (0: any free port)",
      })
      .option('linger-seconds', {
        type: 'number',
        default: 0,
        describe: 'keep the application and /metrics up this long after the story',
      }) as never,
  run: async (_ctx, args, cli) => {
    // Loaded here, not at the top: the demo brings the DAL (Kysely) and the embedded server, which no other command needs.
    const { runDemo } = await import('../../demo/run-demo.js')
    await runDemo({
      quick: args.quick,
      databaseUrl: args['database-url'] ?? process.env.DATABASE_URL,
      metricsPort: args['metrics-port'],
      lingerSeconds: args['linger-seconds'],
      cli,
      onInterrupt,
    })
  },
})
