/** Reads what `cutover status` shows: state, progress, evidence, divergences, recent events, listeners. */
import { displayName, type QualifiedName } from '../../core/identifiers.js'
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

export interface EventView {
  readonly at: string
  readonly actor: string
  readonly kind: string
  readonly reason: string | null
  readonly from: { phase: string | null; readPercent: number | null }
  readonly to: { phase: string | null; readPercent: number | null }
  readonly forced: boolean
  readonly details: Record<string, unknown>
}

export interface MigrationStatus {
  readonly name: string
  /** The group it moves with, or null. */
  readonly group: string | null
  readonly phase: string
  readonly readPercent: number
  readonly authority: 'legacy' | 'shadow'
  readonly version: number
  readonly updatedAt: string
  readonly legacyTable: string
  readonly shadowTable: string
  readonly backfill: {
    done: boolean
    rows: number
    running: boolean
    progress: number | null
    /** While running: rows per second since the job started (over all its runs and workers), and the seconds left at that rate. */
    rowsPerSecond: number | null
    etaSeconds: number | null
    /** Why a running backfill holds its chunks now (`replica lag 3.2 s > 1 s on standby1`), else null. */
    throttled: string | null
  }
  /** A verify running now: keys compared so far, its share of the estimate, rows per second since it started, seconds left at that rate. */
  readonly runningVerify: {
    rows: number
    progress: number | null
    rowsPerSecond: number | null
    etaSeconds: number | null
  } | null
  readonly lastVerify: { at: string; clean: boolean; rowsCompared: number | null } | null
  readonly divergencesLastHour: number
  readonly openDivergences: number
  readonly listeners: number
  /** Of those, the processes that do not hear state notifications (their self-notification did not come back) and poll instead. */
  readonly listenersPolling: number
  readonly events: readonly EventView[]
  /** Set while the migration is retired (`cutover retire`): where the legacy table went, the alias view, the moved foreign keys. */
  readonly retired: RetiredView | null
  /** The bypass net on the legacy table (`cutover net install`), or null. */
  readonly bypassNet: { readonly mode: string; readonly installedAt: string; readonly installedBy: string } | null
}

export interface RetiredView {
  readonly at: string
  readonly actor: string
  readonly retiredTable: string
  /** The view under the legacy name, or null. */
  readonly alias: string | null
  readonly foreignKeysMoved: number
  readonly dropSql: string
}

function retiredView(r: Record<string, unknown>): RetiredView | null {
  if (r.retire_kind !== 'retire') return null
  const d = r.retire_details as {
    retiredTable: QualifiedName
    alias: QualifiedName | null
    foreignKeys: unknown[]
    dropSql: string
  }
  return {
    at: (r.retire_at as Date).toISOString(),
    actor: String(r.retire_actor),
    retiredTable: displayName(d.retiredTable),
    alias: d.alias ? displayName(d.alias) : null,
    foreignKeysMoved: d.foreignKeys.length,
    dropSql: d.dropSql,
  }
}

/** Rows per second since a running job started (over all its runs and workers), and the seconds left at that rate. */
function pace(
  rowsDone: number,
  total: number | null,
  seconds: number,
): { rowsPerSecond: number | null; etaSeconds: number | null } {
  const rowsPerSecond = seconds > 0 && rowsDone > 0 ? rowsDone / seconds : null
  return {
    rowsPerSecond,
    etaSeconds: rowsPerSecond !== null && total !== null ? Math.max(0, total - rowsDone) / rowsPerSecond : null,
  }
}

export async function readStatus(
  db: Queryable,
  schema: string,
  migration?: string,
  eventCount = 5,
): Promise<MigrationStatus[]> {
  const s = controlSchema(schema).quoted
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT m.name, m.definition ->> 'group' AS group_name, st.phase, st.read_percent, st.authority, st.version::text AS version, st.updated_at,
            m.legacy_table::text AS legacy_table, m.shadow_table::text AS shadow_table,
            bf.status AS backfill_status, coalesce(bf.rows_done, 0)::text AS backfill_rows, bf.total_estimate::text AS backfill_total,
            bf.details ->> 'throttled' AS backfill_throttled, bf.seconds AS backfill_seconds,
            vr.rows_done::text AS verify_running_rows, vr.total_estimate::text AS verify_running_total, vr.seconds AS verify_running_seconds,
            rt.kind AS retire_kind, rt.at AS retire_at, rt.actor AS retire_actor, rt.details AS retire_details,
            v.at AS verify_at, (v.details ->> 'clean')::boolean AS verify_clean, (v.details ->> 'rowsCompared')::bigint::text AS verify_rows,
            (SELECT count(*)::int FROM ${s}.divergences d WHERE d.migration = m.name AND d.last_seen > clock_timestamp() - interval '1 hour') AS divergences_hour,
            (SELECT count(*)::int FROM ${s}.divergences d WHERE d.migration = m.name AND d.repaired_at IS NULL) AS divergences_open,
            (SELECT count(*)::int FROM ${s}.instances i WHERE i.heartbeat_at > clock_timestamp() - interval '30 seconds') AS listeners,
            -- to_jsonb: a control schema older than sql/0006 has no follow_mode column (and no polling processes it knows of).
            (SELECT count(*)::int FROM ${s}.instances i WHERE i.heartbeat_at > clock_timestamp() - interval '30 seconds'
                AND to_jsonb(i) ->> 'follow_mode' = 'poll') AS listeners_polling,
            (SELECT jsonb_build_object('mode', n.mode, 'installedAt', n.installed_at, 'installedBy', n.installed_by) FROM ${s}.bypass_nets n WHERE n.migration = m.name) AS bypass_net,
            -- Its own events and its group's (sql/0009), each through its index.
            (SELECT coalesce(json_agg(e ORDER BY e.id DESC), '[]') FROM (SELECT * FROM (
               (SELECT id, at, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, forced, details
                  FROM ${s}.events WHERE migration = m.name ORDER BY id DESC LIMIT $2)
               UNION ALL
               (SELECT id, at, actor, kind, reason, from_phase, from_percent, to_phase, to_percent, forced, details
                  FROM ${s}.events WHERE group_name = m.definition ->> 'group' ORDER BY id DESC LIMIT $2)) u ORDER BY id DESC LIMIT $2) e) AS events
       FROM ${s}.migrations m JOIN ${s}.state st ON st.migration = m.name
       LEFT JOIN LATERAL (SELECT status, rows_done, total_estimate, details,
                                extract(epoch FROM j.updated_at - j.started_at)::float8 AS seconds FROM ${s}.jobs j WHERE j.migration = m.name AND j.kind = 'backfill' ORDER BY id DESC LIMIT 1) bf ON true
       LEFT JOIN LATERAL (SELECT rows_done, total_estimate, extract(epoch FROM j.updated_at - j.started_at)::float8 AS seconds
                            FROM ${s}.jobs j WHERE j.migration = m.name AND j.kind = 'verify' AND j.status = 'running' ORDER BY id DESC LIMIT 1) vr ON true
       LEFT JOIN LATERAL (SELECT at, details FROM ${s}.events e WHERE e.migration = m.name AND e.kind = 'verify' ORDER BY id DESC LIMIT 1) v ON true
       LEFT JOIN LATERAL (SELECT kind, at, actor, details FROM ${s}.events e WHERE e.migration = m.name AND e.kind IN ('retire', 'unretire') ORDER BY id DESC LIMIT 1) rt ON true
      WHERE $1::text IS NULL OR m.name = $1 OR m.definition ->> 'group' = $1
      ORDER BY m.definition ->> 'group' NULLS FIRST, m.name`,
    [migration ?? null, eventCount],
  )
  return rows.map((r) => {
    const rowsDone = Number(r.backfill_rows)
    const total = r.backfill_total === null ? null : Number(r.backfill_total)
    const isRunning = r.backfill_status === 'running'
    const backfillPace = isRunning
      ? pace(rowsDone, total, Number(r.backfill_seconds ?? 0))
      : { rowsPerSecond: null, etaSeconds: null }
    const verifyRows = Number(r.verify_running_rows ?? 0)
    const verifyTotal = r.verify_running_total === null ? null : Number(r.verify_running_total)
    return {
      name: String(r.name),
      group: (r.group_name as string | null) ?? null,
      phase: String(r.phase),
      readPercent: Number(r.read_percent),
      authority: r.authority === 'shadow' ? 'shadow' : 'legacy',
      version: Number(r.version),
      updatedAt: (r.updated_at as Date).toISOString(),
      legacyTable: String(r.legacy_table),
      shadowTable: String(r.shadow_table),
      backfill: {
        done: r.backfill_status === 'done',
        running: r.backfill_status === 'running',
        rows: rowsDone,
        progress: r.backfill_status === 'done' ? 1 : total ? Math.min(1, rowsDone / total) : null,
        ...backfillPace,
        throttled: isRunning ? ((r.backfill_throttled as string | null) ?? null) : null,
      },
      runningVerify:
        r.verify_running_rows === null
          ? null
          : {
              rows: verifyRows,
              progress: verifyTotal ? Math.min(1, verifyRows / verifyTotal) : null,
              ...pace(verifyRows, verifyTotal, Number(r.verify_running_seconds ?? 0)),
            },
      lastVerify: r.verify_at
        ? {
            at: (r.verify_at as Date).toISOString(),
            clean: r.verify_clean === true,
            rowsCompared: r.verify_rows === null ? null : Number(r.verify_rows),
          }
        : null,
      divergencesLastHour: Number(r.divergences_hour),
      openDivergences: Number(r.divergences_open),
      listeners: Number(r.listeners),
      listenersPolling: Number(r.listeners_polling),
      events: (r.events as Record<string, unknown>[]).map((e) => ({
        at: String(e.at),
        actor: String(e.actor),
        kind: String(e.kind),
        reason: (e.reason as string | null) ?? null,
        from: {
          phase: (e.from_phase as string | null) ?? null,
          readPercent: (e.from_percent as number | null) ?? null,
        },
        to: { phase: (e.to_phase as string | null) ?? null, readPercent: (e.to_percent as number | null) ?? null },
        forced: e.forced === true,
        details: (e.details as Record<string, unknown>) ?? {},
      })),
      retired: retiredView(r),
      bypassNet: (r.bypass_net as MigrationStatus['bypassNet']) ?? null,
    }
  })
}
