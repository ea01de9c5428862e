/** `npm run dashboards`: writes dashboards/cutover.json from scripts/observability/cutover-dashboard.ts. */
import { writeFileSync } from 'node:fs'
import { renderCutoverDashboard } from './observability/cutover-dashboard.js'
import { DASHBOARD_JSON } from './observability/promql-sources.js'

writeFileSync(DASHBOARD_JSON, renderCutoverDashboard())
process.stdout.write(`wrote ${DASHBOARD_JSON}\n`)
