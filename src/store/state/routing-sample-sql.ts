/** Reads the live instances' samples of recent routing keys (sql/0004), for `ramp`'s estimate of keys moved. */
import type { Queryable } from '../../db/queryable.js'
import { keysBetween, sumBucketCounts, type BucketCounts } from '../../core/routing-sample.js'
import { controlSchema } from '../../db/control-schema.js'

export interface KeysMoved {
  /** Where the moved keys now read from. */
  readonly direction: 'to_legacy' | 'to_shadow' | 'none'
  /** Sampled routing keys whose bucket lies between the old and the new percentage. */
  readonly keys: number
  /** Distinct routing keys in the sample (summed over instances, so an upper bound). */
  readonly sampledKeys: number
  /** Live instances (heartbeat within 30 s) that reported a sample for this migration. */
  readonly instances: number
}

/** The summed bucket counts of live instances for `migration`, and how many instances reported one. */
export async function readRoutingSample(
  pool: Queryable,
  schema: string,
  migration: string,
): Promise<{ counts: BucketCounts; instances: number }> {
  const { rows } = await pool.query<{ sample: BucketCounts }>(
    `SELECT routing_sample -> $1 AS sample FROM ${controlSchema(schema).quoted}.instances
      WHERE heartbeat_at > clock_timestamp() - interval '30 seconds' AND routing_sample ? $1`,
    [migration],
  )
  const samples = rows.map((r) => r.sample).filter((s) => Array.isArray(s?.buckets) && s.buckets.length === 100)
  return { counts: sumBucketCounts(samples), instances: samples.length }
}

/** How many sampled keys a change of the shadow read percentage from `fromPercent` to `toPercent` moves. */
export async function estimateKeysMoved(
  pool: Queryable,
  schema: string,
  migration: string,
  fromPercent: number,
  toPercent: number,
): Promise<KeysMoved> {
  const { counts, instances } = await readRoutingSample(pool, schema, migration)
  const direction = toPercent < fromPercent ? 'to_legacy' : toPercent > fromPercent ? 'to_shadow' : 'none'
  return {
    direction,
    keys: keysBetween(counts.buckets, fromPercent, toPercent),
    sampledKeys: counts.distinctKeys,
    instances,
  }
}
