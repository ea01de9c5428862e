/** `cutover divergences`: lists the recorded divergences with the columns that differ. */
import { differingColumns } from '../../core/row-hash.js'
import { readState } from '../../store/state/state-row.js'
import { listDivergences } from '../../store/divergences/divergence-list-sql.js'
import type { CommandContext, GlobalArgs } from '../context.js'
import type { DivergencesArgs } from '../commands/divergences.js'

export async function divergencesHandler(ctx: CommandContext, args: GlobalArgs & DivergencesArgs): Promise<void> {
  await readState(ctx.pool, ctx.schema, args.migration)
  const limit = Number.isInteger(args.limit) && args.limit > 0 ? args.limit : 50
  const { total, items } = await listDivergences(ctx.pool, ctx.schema, args.migration, {
    includeRepaired: args.all,
    limit,
  })
  const withDiff = items.map((d) => ({
    ...d,
    columns: d.legacyRow && d.shadowRow ? differingColumns(d.legacyRow, d.shadowRow) : [],
  }))
  ctx.emit({ migration: args.migration, total, divergences: withDiff })
  ctx.say(
    `${args.migration}: ${total} ${args.all ? 'recorded' : 'unrepaired'} divergence(s)${total > items.length ? `, showing ${items.length}` : ''}`,
  )
  for (const d of withDiff) {
    ctx.say(
      `  ${JSON.stringify(d.key)}  ${d.kind} (${d.source}), seen ${d.seenCount}x, first ${d.firstSeen}, last ${d.lastSeen}${d.repairedAt ? `, repaired ${d.repairedAt}` : ''}`,
    )
    for (const column of d.columns)
      ctx.say(
        `      ${column}: legacy ${JSON.stringify(d.legacyRow?.[column])}  shadow ${JSON.stringify(d.shadowRow?.[column])}`,
      )
    if (d.detail) ctx.say(`      ${d.detail}`)
  }
}
