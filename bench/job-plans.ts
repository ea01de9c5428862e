/**
 * `--explain`: where a backfill or verify chunk spends its time. Prints
 * EXPLAIN (ANALYZE, BUFFERS, WAL) of one chunk of each job over keys
 * 1…`chunkRows`, of variants with one feature taken out, and of the
 * baselines over the same keys, on stderr. Every statement runs in a
 * transaction that is rolled back, so the tables are left as they were.
 */
import type pg from 'pg'
import { actualItems, expectedItems } from '../src/core/compare-sql.js'
import { list, q, typeOf } from '../src/shape/migration-shape.js'
import { backfillSql } from '../src/jobs/statements/backfill-sql.js'
import { verifySql } from '../src/jobs/statements/verify-sql.js'
import { MIGRATION, SCHEMA, type BenchWorld } from './lib/setup.js'
import { diffQuery } from './verify-throughput.js'

const FOR_SHARE = / FOR SHARE( NOWAIT| SKIP LOCKED)?/
const ON_CONFLICT = / ON CONFLICT \([^)]*\) DO NOTHING/

interface Plan {
  readonly label: string
  readonly text: string
  readonly values: readonly unknown[]
  /** Runs first in the same transaction (untimed), e.g. to empty the shadow. */
  readonly setup?: string
}

async function explain(pool: pg.Pool, plan: Plan, log: (line: string) => void): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    if (plan.setup) await client.query(plan.setup)
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, WAL) ${plan.text}`, [
      ...plan.values,
    ])
    log(`explain: ${plan.label}`)
    for (const row of rows) log(`  ${row['QUERY PLAN']}`)
  } catch (error) {
    log(`explain: ${plan.label}: failed: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    await client.query('ROLLBACK').catch(() => undefined)
    client.release()
  }
}

/** A variant of `text` with `pattern` removed, or nothing when the statement no longer has it. */
function without(plan: Plan, what: string, pattern: RegExp): Plan[] {
  return pattern.test(plan.text)
    ? [{ ...plan, label: `${plan.label} without ${what}`, text: plan.text.replace(pattern, '') }]
    : []
}

/** The shadow must hold the backfilled copy (verify compares it); the backfill plans empty it inside their transaction. */
export async function explainJobPlans(
  world: BenchWorld,
  chunkRows: number,
  log: (line: string) => void,
): Promise<void> {
  const { shape, pool } = world
  const range = { lower: ['1'], isLowerInclusive: true, upper: [String(chunkRows)] }
  // The bench migration's keys are single bigint columns, 1…N on both sides.
  const legacyKey = q(shape.legacyKey[0] ?? 'id')
  const shadowKey = q(shape.shadowKey[0] ?? 'id')
  const inRange = (alias: string): string =>
    `${alias}.${alias === 'st' ? shadowKey : legacyKey} BETWEEN 1 AND ${chunkRows}`
  const empty = `TRUNCATE ${shape.shadowTable}`
  const copy = backfillSql(shape).copyChunk(range)
  const chunk: Plan = {
    label: `backfill chunk of ${chunkRows} keys (plain INSERT, the fast path)`,
    text: copy.text,
    values: copy.values,
    setup: empty,
  }
  const keeping = backfillSql(shape).copyChunkKeepingShadowRows(range)
  const keepingChunk: Plan = {
    label: `backfill chunk of ${chunkRows} keys keeping dual-written rows (the fallback)`,
    text: keeping.text,
    values: keeping.values,
    setup: empty,
  }
  const plainCopy = `INSERT INTO ${shape.shadowTable} (${list(shape.forward.map((m) => m.column))})
    SELECT ${shape.forward.map((m) => m.expression).join(', ')} FROM ${shape.legacyTable} AS lt WHERE ${inRange('lt')}`
  const compare = verifySql(shape, SCHEMA).compareChunk(range, MIGRATION, 'explain')
  const check = verifySql(shape, SCHEMA).checkChunk(range)
  const columns = shape.forward.map((m) => ({
    column: m.column,
    type: typeOf(shape.shadowColumns, m.column),
    expression: m.expression,
  }))
  const typed = shape.forward.map((m) => `(${m.expression})::${typeOf(shape.shadowColumns, m.column)}`).join(', ')
  const plans: Plan[] = [
    chunk,
    ...without(chunk, 'FOR SHARE', FOR_SHARE),
    keepingChunk,
    ...without(keepingChunk, 'ON CONFLICT', ON_CONFLICT),
    { label: `baseline INSERT … SELECT of the same ${chunkRows} keys`, text: plainCopy, values: [], setup: empty },
    {
      label: `verify's counting pass over ${chunkRows} keys (what a clean chunk costs)`,
      text: check.text,
      values: check.values,
    },
    {
      label: `verify chunk of ${chunkRows} keys, recording what differs (run only where the counting pass found differences)`,
      text: compare.text,
      values: compare.values,
    },
    {
      label: `verify's comparable projection of ${chunkRows} legacy rows (to_jsonb of normalised text)`,
      text: `SELECT count(to_jsonb(e)) FROM ${shape.legacyTable} AS lt CROSS JOIN LATERAL (SELECT ${expectedItems(columns, shape.definition.compare)}) AS e WHERE ${inRange('lt')}`,
      values: [],
    },
    {
      label: `verify's comparable projection of ${chunkRows} shadow rows`,
      text: `SELECT count(to_jsonb(a)) FROM ${shape.shadowTable} AS st CROSS JOIN LATERAL (SELECT ${actualItems(columns, shape.definition.compare, 'st')}) AS a WHERE ${inRange('st')}`,
      values: [],
    },
    {
      label: `a typed row projection of the same legacy rows`,
      text: `SELECT count(ROW(${typed})) FROM ${shape.legacyTable} AS lt WHERE ${inRange('lt')}`,
      values: [],
    },
    {
      label: `baseline diff query over the same ${chunkRows} keys`,
      text: `SELECT count(*) FROM (SELECT ${shape.forward.map((m) => `${m.expression} AS ${q(m.column)}`).join(', ')} FROM ${shape.legacyTable} AS lt WHERE ${inRange('lt')}) AS l
        FULL JOIN (SELECT * FROM ${shape.shadowTable} AS st WHERE ${inRange('st')}) AS s ON l.${shadowKey} = s.${shadowKey}
        WHERE ROW(${shape.forward.map((m) => `l.${q(m.column)}`).join(', ')}) IS DISTINCT FROM ROW(${shape.forward.map((m) => `s.${q(m.column)}`).join(', ')})`,
      values: [],
    },
    { label: 'baseline diff query, whole table', text: diffQuery(world), values: [] },
    {
      label: 'baseline diff query, whole table, serial',
      text: diffQuery(world),
      values: [],
      setup: 'SET LOCAL max_parallel_workers_per_gather = 0',
    },
  ]
  for (const plan of plans) await explain(pool, plan, log)
}
