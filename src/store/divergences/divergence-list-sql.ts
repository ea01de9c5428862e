/** Lists recorded divergences for `cutover divergences`. */
import { controlSchema } from '../../db/control-schema.js'
import type { Queryable } from '../../db/queryable.js'

export interface DivergenceView {
  readonly key: Record<string, unknown>
  readonly source: string
  readonly kind: string
  readonly legacyRow: Record<string, unknown> | null
  readonly shadowRow: Record<string, unknown> | null
  readonly detail: string | null
  readonly firstSeen: string
  readonly lastSeen: string
  readonly seenCount: number
  readonly repairedAt: string | null
}

export async function listDivergences(
  db: Queryable,
  schema: string,
  migration: string,
  options: { includeRepaired: boolean; limit: number },
): Promise<{ total: number; items: DivergenceView[] }> {
  const s = controlSchema(schema).quoted
  const filter = options.includeRepaired ? '' : 'AND repaired_at IS NULL'
  const { rows: count } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${s}.divergences WHERE migration = $1 ${filter}`,
    [migration],
  )
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT key, source, kind, legacy_row, shadow_row, detail, first_seen, last_seen, seen_count, repaired_at
       FROM ${s}.divergences WHERE migration = $1 ${filter} ORDER BY last_seen DESC LIMIT $2`,
    [migration, options.limit],
  )
  return {
    total: count[0]?.n ?? 0,
    items: rows.map((r) => ({
      key: r.key as Record<string, unknown>,
      source: String(r.source),
      kind: String(r.kind),
      legacyRow: (r.legacy_row as Record<string, unknown> | null) ?? null,
      shadowRow: (r.shadow_row as Record<string, unknown> | null) ?? null,
      detail: (r.detail as string | null) ?? null,
      firstSeen: (r.first_seen as Date).toISOString(),
      lastSeen: (r.last_seen as Date).toISOString(),
      seenCount: Number(r.seen_count),
      repairedAt: r.repaired_at ? (r.repaired_at as Date).toISOString() : null,
    })),
  }
}
