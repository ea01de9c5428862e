/**
 * The legacy columns a comparison judges in the legacy shape, as the caller receives them: every legacy column but a
 * generated one, with the `compare` normaliser of the shadow column `backward` copies unchanged into it. Precheck's
 * round trip, the DAL's compared reads and verify judge the read-back row this way.
 */
import { verifyColumns, type VerifyColumnSql } from '../core/compare-sql.js'
import { plainColumnMap } from '../core/mapping.js'
import type { MigrationShape } from './migration-shape.js'

export interface ReadBackColumn {
  readonly column: string
  readonly type: string
  readonly normaliser: string | undefined
  /** The column's comparison SQL (core/compare-sql.ts): `normalise`, `key`, `comparable`. */
  readonly sql: VerifyColumnSql
}

const cache = new WeakMap<MigrationShape, readonly ReadBackColumn[]>()
const changing = new WeakMap<MigrationShape, readonly ReadBackColumn[]>()

/**
 * The read-back columns whose round trip is not the identity: all but a legacy column copied unchanged into a shadow
 * column of the same type and copied unchanged back. For those, a shadow column equal to forward(legacy) already
 * means the value read back is the legacy one, so verify judges only these in the legacy shape too. Built once per shape.
 */
export function changingReadBackColumns(shape: MigrationShape): readonly ReadBackColumn[] {
  let columns = changing.get(shape)
  if (columns) return columns
  const back = plainColumnMap(
    shape.backward,
    shape.shadowColumns.map((c) => c.name),
  )
  const forth = plainColumnMap(
    shape.forward,
    shape.legacyColumns.map((c) => c.name),
  )
  const shadowType = new Map(shape.shadowColumns.map((c) => [c.name, c.type]))
  const isIdentity = (c: ReadBackColumn): boolean => {
    const shadowColumn = forth.get(c.column)
    return shadowColumn !== undefined && back.get(shadowColumn) === c.column && shadowType.get(shadowColumn) === c.type
  }
  columns = readBackColumns(shape).filter((c) => !isIdentity(c))
  changing.set(shape, columns)
  return columns
}

/** Built once per shape. */
export function readBackColumns(shape: MigrationShape): readonly ReadBackColumn[] {
  let columns = cache.get(shape)
  if (columns) return columns
  const normaliserOf = new Map(
    [
      ...plainColumnMap(
        shape.backward,
        shape.shadowColumns.map((c) => c.name),
      ),
    ].flatMap(([shadowColumn, legacyColumn]) => {
      const normaliser = shape.definition.compare[shadowColumn]
      return normaliser === undefined ? [] : [[legacyColumn, normaliser] as const]
    }),
  )
  columns = shape.legacyColumns
    .filter((c) => !c.isGenerated)
    .map((c) => {
      const normaliser = normaliserOf.get(c.name)
      const [sql] = verifyColumns(
        [{ column: c.name, type: c.type, expression: '' }],
        normaliser === undefined ? {} : { [c.name]: normaliser },
      )
      return { column: c.name, type: c.type, normaliser, sql: sql as VerifyColumnSql }
    })
  cache.set(shape, columns)
  return columns
}
