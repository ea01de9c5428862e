// Runs a real Unleash server (the unleash-server npm package) for the flags tests, in a process of
// its own: its stop() leaves a session-cleanup timer behind, so the parent ends it with SIGTERM.
// argv[2]: the package's entry file. env CUTOVER_UNLEASH_CONFIG: { db, port, adminToken, clientToken }.
// Prints "listening <port>" once it answers.
import { pathToFileURL } from 'node:url'

const config = JSON.parse(process.env.CUTOVER_UNLEASH_CONFIG ?? '{}')
const { start } = await import(pathToFileURL(process.argv[2]).href)
const quiet = () => ({ debug() {}, info() {}, warn() {}, error() {}, fatal() {} })
const unleash = await start({
  db: { ...config.db, ssl: false, pool: { min: 0, max: 4 } },
  server: { port: config.port, host: '127.0.0.1' },
  authentication: {
    type: 'open-source',
    initApiTokens: [
      { secret: config.adminToken, type: 'admin', tokenName: 'cutover-tests-admin', environment: '*', projects: ['*'] },
      {
        secret: config.clientToken,
        type: 'backend',
        tokenName: 'cutover-tests-client',
        environment: 'development',
        projects: ['default'],
      },
    ],
  },
  versionCheck: { enable: false },
  telemetry: false,
  getLogger: quiet,
})
process.stdout.write(`listening ${config.port}\n`)
process.on('SIGTERM', () => {
  void Promise.race([unleash.stop(), new Promise((resolve) => setTimeout(resolve, 3000))]).finally(() =>
    process.exit(0),
  )
})
