/**
 * The "cutover" Grafana dashboard, as code. `npm run dashboards` writes it to
 * dashboards/cutover.json; test/dashboards-json.test.ts fails when that file is stale.
 */
import * as common from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import type * as cog from '@grafana/grafana-foundation-sdk/cog'
import { PanelBuilder as BarGaugePanel } from '@grafana/grafana-foundation-sdk/bargauge'
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus'
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat'
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline'
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries'
import { PHASE_VALUES } from './metric-contract.js'
import { Q } from './dashboard-queries.js'

export const RUNBOOKS_URL = 'https://github.com/cutover/cutover/blob/main/runbooks'

/** Every panel and query reads from the data source picked in the `datasource` variable. */
const DS: { type: string; uid: string } = { type: 'prometheus', uid: '${datasource}' }

interface Query {
  readonly expr: string
  readonly legend: string
}

type AnyPanel = TimeseriesPanel | StatPanel | StateTimelinePanel | BarGaugePanel

function targets(queries: readonly Query[], instant = false): DataqueryBuilder[] {
  return queries.map((q, i) => {
    const target = new DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(DS)
      .expr(q.expr)
      .legendFormat(q.legend)
    return instant ? target.instant() : target.range()
  })
}

function legend(): common.VizLegendOptionsBuilder {
  return new common.VizLegendOptionsBuilder()
    .displayMode(common.LegendDisplayMode.List)
    .placement(common.LegendPlacement.Bottom)
    .showLegend(true)
}

function tooltip(): common.VizTooltipOptionsBuilder {
  return new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending)
}

function steps(...values: [number | null, string][]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(values.map(([value, color]) => ({ value, color })))
}

/** Phase index (see Q.phaseIndex) → phase name, coloured from calm to committed. */
const PHASE_COLOURS = ['text', 'blue', 'purple', 'orange', 'yellow', 'green'] as const
const phaseMappings: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.ValueToText,
    options: Object.fromEntries(
      PHASE_VALUES.map((phase, index) => [String(index), { text: phase, color: PHASE_COLOURS[index], index }]),
    ),
  },
]

function timeseries(title: string, description: string, unit: string, queries: readonly Query[]): TimeseriesPanel {
  return new TimeseriesPanel()
    .title(title)
    .description(description)
    .datasource(DS)
    .unit(unit)
    .targets(targets(queries))
    .legend(legend())
    .tooltip(tooltip())
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
}

/** Counts per interval, drawn as bars: events (divergences, rollbacks, verify rows) rather than levels. */
function bars(title: string, description: string, unit: string, queries: readonly Query[]): TimeseriesPanel {
  return timeseries(title, description, unit, queries)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
}

function stat(title: string, description: string, unit: string, queries: readonly Query[]): StatPanel {
  return new StatPanel()
    .title(title)
    .description(description)
    .datasource(DS)
    .unit(unit)
    .targets(targets(queries, true))
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.ValueAndName)
}

function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title)
}

/** The dashboard's rows, each a title and its panels (widths add up to 24 per line). */
function layout(): [string, [AnyPanel, number, number][]][] {
  return [
    [
      'Phase and reads',
      [
        [
          stat(
            'Phase',
            'Current phase of each migration (off → dual_write → shadow_read → ramp → shadow_primary → complete), as reported by the application processes.',
            'none',
            [{ expr: Q.phaseIndex, legend: '{{migration}}' }],
          ).mappings(phaseMappings),
          5,
          5,
        ],
        [
          stat(
            'Shadow read %',
            'Share of routing keys whose reads are served from the shadow table (the ramp percentage).',
            'percent',
            [{ expr: Q.readPercent, legend: '{{migration}}' }],
          )
            .min(0)
            .max(100)
            .thresholds(steps([null, 'text'], [1, 'orange'], [100, 'green'])),
          4,
          5,
        ],
        [
          new StateTimelinePanel()
            .title('Phase over time')
            .description(
              'Phase of each migration over the time range. A sudden drop to dual_write is a rollback (see the rollbacks panel for its trigger).',
            )
            .datasource(DS)
            .targets(targets([{ expr: Q.phaseIndex, legend: '{{migration}}' }]))
            .mappings(phaseMappings)
            .thresholds(steps([null, 'text']))
            .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds)),
          15,
          5,
        ],
        [
          timeseries(
            'Shadow read % over time',
            'The ramp percentage over time; 0 outside ramp, 100 in shadow_primary and complete.',
            'percent',
            [{ expr: Q.readPercent, legend: '{{migration}}' }],
          )
            .min(0)
            .max(100),
          12,
          8,
        ],
        [
          timeseries(
            'Reads by side',
            'Reads per second by the table that served them. In ramp, the shadow share should follow the ramp percentage; a compared read that mismatched is served from the authoritative side.',
            'reqps',
            [{ expr: Q.readsBySide, legend: '{{migration}} {{served_from}}' }],
          ).min(0),
          12,
          8,
        ],
      ],
    ],
    [
      'Consistency',
      [
        [
          timeseries(
            'Consistency rate',
            'Share of comparisons (reads, verify, calibrate) whose rows matched, and share that failed to run. Anything under 100 % match is a divergence to explain.',
            'percentunit',
            [
              { expr: Q.consistencyRate, legend: '{{migration}} match' },
              { expr: Q.comparisonErrorRate, legend: '{{migration}} error' },
            ],
          )
            .min(0)
            .max(1),
          8,
          8,
        ],
        [
          timeseries(
            'Comparisons by source and result',
            'Comparisons per second. In shadow_read and ramp, read comparisons should never stop (see the "comparisons went silent" alert).',
            'ops',
            [{ expr: Q.comparisonsBySourceAndResult, legend: '{{migration}} {{source}} {{result}}' }],
          ).min(0),
          8,
          8,
        ],
        [
          bars(
            'Divergences by source',
            'Rows found different between legacy and shadow, per interval, by where they were found (write: the shadow rejected a write; read: a compared read; verify: the verify job). List them with: cutover divergences <migration>.',
            'short',
            [{ expr: Q.divergencesBySource, legend: '{{migration}} {{source}}' }],
          ).thresholds(steps([null, 'green'], [1, 'red'])),
          8,
          8,
        ],
      ],
    ],
    [
      'Writes that would read back different',
      [
        [
          bars(
            'Lossy writes by operation',
            "Rows written through the DAL that the application would read back different once reads go to the shadow: backward(forward(row)) differs from the row, judged in the write's own statement. Each is a write divergence naming the columns (cutover divergences <migration>); fix the mapping (cutover precheck <migration> lists every such row already stored).",
            'short',
            [{ expr: Q.roundTripWrites, legend: '{{migration}} {{operation}}' }],
          ).thresholds(steps([null, 'green'], [1, 'red'])),
          24,
          8,
        ],
      ],
    ],
    [
      'Writers that bypass the DAL',
      [
        [
          bars(
            'Bypassing writes by writer',
            'Rows written to the legacy table by statements that did not come through the DAL (a cron job, psql, another service), per interval, by application_name, role and operation, as the bypass net (cutover net install) counted them. Without a net nothing is counted. Who and when: cutover doctor <migration>.',
            'short',
            [{ expr: Q.bypassWritesByWriter, legend: '{{migration}} {{application_name}} ({{role}}) {{op}}' }],
          ).thresholds(steps([null, 'green'], [1, 'orange'])),
          16,
          8,
        ],
        [
          stat(
            'Since the last bypassing write',
            'Time since the bypass net last saw a row written outside the DAL. Under 15 minutes fires CutoverBypassWrites.',
            's',
            [{ expr: Q.bypassLastWriteAge, legend: '{{migration}}' }],
          ).thresholds(steps([null, 'red'], [900, 'green'])),
          8,
          8,
        ],
      ],
    ],
    [
      'Latency: shadow against legacy',
      [
        [
          timeseries(
            'Read latency p50 / p99',
            'DAL read latency by the table that served it. A compared read reads both tables in one statement and is counted as shadow.',
            's',
            [
              { expr: Q.readP50, legend: '{{migration}} p50 {{target}}' },
              { expr: Q.readP99, legend: '{{migration}} p99 {{target}}' },
            ],
          ).min(0),
          8,
          8,
        ],
        [
          timeseries(
            'Write latency p50 / p99',
            'DAL write latency (insert, update, upsert, delete) by the authoritative table: one statement writes both tables, so legacy in dual_write…ramp and shadow from shadow_primary on.',
            's',
            [
              { expr: Q.writeP50, legend: '{{migration}} p50 {{target}}' },
              { expr: Q.writeP99, legend: '{{migration}} p99 {{target}}' },
            ],
          ).min(0),
          8,
          8,
        ],
        [
          timeseries(
            'Read p99 ratio shadow ÷ legacy',
            "The latency guardrail's measure: shadow read p99 divided by legacy read p99. Above the bound (the p99_ratio_bound box; keep it equal to guardrails.maxP99Ratio) the guardrail rolls the migration back. Meaningful in ramp: in shadow_read a compared read reads both tables and is timed as shadow.",
            'x',
            [
              { expr: Q.readP99Ratio, legend: '{{migration}} shadow ÷ legacy' },
              { expr: Q.p99RatioBound, legend: 'guardrail bound' },
            ],
          )
            .min(0)
            .overrideByName('guardrail bound', [
              { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
              { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
            ]),
          8,
          8,
        ],
      ],
    ],
    [
      'Errors',
      [
        [
          timeseries(
            'Errors by side',
            'Failed DAL operations per second by table. Shadow errors with onSecondaryError "record" leave a divergence for repair; with "fail" the application saw the error.',
            'ops',
            [{ expr: Q.errorsBySide, legend: '{{migration}} {{target}} {{operation}}' }],
          ).min(0),
          12,
          8,
        ],
        [
          timeseries('Error share by side', 'Failed ÷ all DAL operations, by table.', 'percentunit', [
            { expr: Q.errorShareBySide, legend: '{{migration}} {{target}}' },
          ]).min(0),
          12,
          8,
        ],
      ],
    ],
    [
      'Backfill and verify',
      [
        [
          new BarGaugePanel()
            .title('Backfill progress')
            .description(
              'Share of the legacy key range the backfill has copied (1 when done). Reported by the process running the backfill.',
            )
            .datasource(DS)
            .unit('percentunit')
            .min(0)
            .max(1)
            .targets(targets([{ expr: Q.backfillProgress, legend: '{{migration}}' }], true))
            .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
            .displayMode(common.BarGaugeDisplayMode.Gradient)
            .orientation(common.VizOrientation.Horizontal)
            .thresholds(steps([null, 'orange'], [1, 'green'])),
          6,
          8,
        ],
        [
          timeseries(
            'Backfill rate',
            'Rows copied into the shadow per second. Zero while progress is under 100 % means a stalled backfill.',
            'rowsps',
            [{ expr: Q.backfillRate, legend: '{{migration}}' }],
          ).min(0),
          6,
          8,
        ],
        [
          bars(
            'Verify results',
            'Rows compared by verify per interval, by result. Anything but match is recorded as a divergence.',
            'short',
            [{ expr: Q.verifyRowsByResult, legend: '{{migration}} {{result}}' }],
          ),
          6,
          8,
        ],
        [
          timeseries(
            'Lock retries',
            'Backfill, verify and repair statements retried after a lock timeout. A steady rate means the jobs are fighting application locks; they slow down but lose nothing.',
            'ops',
            [{ expr: Q.lockRetries, legend: '{{migration}} {{task}}' }],
          ).min(0),
          6,
          8,
        ],
      ],
    ],
    [
      'Rollbacks and state propagation',
      [
        [
          bars(
            'Rollbacks by trigger',
            'Rollbacks per interval: manual (cutover rollback) or guardrail (an application process saw divergences or shadow latency cross its bound and rolled back by itself).',
            'short',
            [{ expr: Q.rollbacksByTrigger, legend: '{{migration}} {{trigger}}' }],
          ),
          8,
          8,
        ],
        [
          stat(
            'In the time range',
            'Rollbacks, verify differences and divergences over the whole time range.',
            'short',
            [
              { expr: Q.rollbacksInRange, legend: '{{migration}} rollbacks ({{trigger}})' },
              { expr: Q.verifyDifferencesInRange, legend: '{{migration}} verify {{result}}' },
              { expr: Q.divergencesInRange, legend: '{{migration}} divergences ({{source}})' },
            ],
          )
            .thresholds(steps([null, 'green'], [1, 'red']))
            .colorMode(common.BigValueColorMode.Background),
          6,
          8,
        ],
        [
          timeseries(
            'State propagation time',
            "Time from a state change's commit (advance, ramp, rollback) until each application process applied it. Expected under 1 s (LISTEN/NOTIFY); seconds mean processes fell back to polling.",
            's',
            [
              { expr: Q.propagationP50, legend: '{{migration}} p50' },
              { expr: Q.propagationP99, legend: '{{migration}} p99' },
            ],
          )
            .min(0)
            .showPoints(common.VisibilityMode.Always),
          6,
          8,
        ],
        [
          stat('Propagation p99 (range)', 'p99 of state propagation over the whole time range.', 's', [
            { expr: Q.propagationP99InRange, legend: '{{migration}}' },
          ]).thresholds(steps([null, 'green'], [1, 'orange'], [5, 'red'])),
          4,
          8,
        ],
      ],
    ],
  ]
}

function variables(): cog.Builder<dashboard.VariableModel>[] {
  return [
    new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    new dashboard.QueryVariableBuilder('migration')
      .label('Migration')
      .datasource(DS)
      .query('label_values(cutover_phase, migration)')
      .definition('label_values(cutover_phase, migration)')
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.+')
      .current({ selected: true, text: ['All'], value: ['$__all'] }),
    new dashboard.TextBoxVariableBuilder('p99_ratio_bound')
      .label('p99 ratio guardrail')
      .defaultValue('2')
      .current({ selected: false, text: '2', value: '2' })
      .description("The migration's guardrails.maxP99Ratio, drawn on the p99 ratio panel."),
  ]
}

/** The dashboard, as the Grafana dashboard model (schemaVersion from the SDK). */
export function buildCutoverDashboard(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('cutover')
    .uid('cutover')
    .description(
      'Live table migrations with cutover: phase and read ramp, consistency, shadow against legacy latency and errors, backfill and verify, rollbacks. One series per migration.',
    )
    .tags(['cutover', 'postgresql', 'migration'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-3h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .variables(variables())
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name('Rollbacks')
        .datasource(DS)
        .enable(true)
        .iconColor('red')
        .expr(Q.rollbackAnnotation)
        .step('1m')
        .titleFormat('rollback ({{trigger}})')
        .textFormat('{{migration}}')
        .tagKeys('migration,trigger'),
    )
    .link(
      new dashboard.DashboardLinkBuilder('Runbooks')
        .type(dashboard.DashboardLinkType.Link)
        .url(`${RUNBOOKS_URL}/README.md`)
        .icon('doc')
        .targetBlank(true)
        .tooltip('What each alert means and what to do'),
    )
  let id = 1
  for (const [title, panels] of layout()) {
    builder.withRow(row(title).id(id++))
    for (const [panel, width, height] of panels) builder.withPanel(panel.id(id++).span(width).height(height))
  }
  return builder.build()
}

/** The dashboard exactly as committed in dashboards/cutover.json. */
export function renderCutoverDashboard(): string {
  return `${JSON.stringify(buildCutoverDashboard(), null, 2)}\n`
}
