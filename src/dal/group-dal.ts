/**
 * The data-access layer of a migration group: its members' DALs (each writes
 * and reads as a migration's does, routed by the group's bucket) and selects
 * that join members, routed as a whole: one side for every table.
 */
import { UNKNOWN_STATE, type MigrationState, type Side } from '../core/phases.js'
import { routeRead } from '../core/routing.js'
import type { MigrationShape } from '../shape/migration-shape.js'
import type { SqlExecutor } from './executor.js'
import { callerExecutor } from './caller-executor.js'
import { groupSelectPlan, type GroupSelectBuilder } from './group-select.js'
import type { MigrationDal, ReadOptions } from './migration-dal.js'
import { compileOnlyKysely } from './query-compiler.js'
import type { ReadPipeline } from './read-pipeline.js'
import { selectServedSide } from './routed-select.js'
import type { StatementPolicy } from './statement-policy.js'
import type { Logger } from '../logger.js'

export interface GroupDalContext {
  readonly name: string
  /** Member name → its DAL, in name order. */
  readonly members: ReadonlyMap<string, MigrationDal>
  /** Member name → its loaded definition, whose shape a changed definition replaces. */
  readonly loaded: ReadonlyMap<string, { readonly shape: MigrationShape }>
  /** The state this process applies for a member. */
  readonly state: (member: string) => MigrationState | undefined
  readonly executor: SqlExecutor
  readonly statements?: StatementPolicy
  readonly reads: ReadPipeline
  readonly logger: Logger
}

export class GroupDal {
  readonly #c: GroupDalContext
  readonly #kysely = compileOnlyKysely()
  /** The members' shapes, rebuilt only when a reload replaced one. */
  #shapes: ReadonlyMap<string, MigrationShape> = new Map()
  readonly name: string

  constructor(context: GroupDalContext) {
    this.#c = context
    this.name = context.name
  }

  #currentShapes(): ReadonlyMap<string, MigrationShape> {
    for (const [member, l] of this.#c.loaded) {
      if (this.#shapes.get(member) !== l.shape) {
        this.#shapes = new Map([...this.#c.loaded].map(([m, d]) => [m, d.shape]))
        break
      }
    }
    return this.#shapes
  }

  /** The DAL of one member. */
  migration(name: string): MigrationDal | undefined {
    return this.#c.members.get(name)
  }

  /**
   * The group's state in this process: its members' common state. Members are
   * applied together; should they ever disagree here, the group reads legacy
   * (`off`), never a mix.
   */
  get state(): MigrationState {
    let common: MigrationState | undefined
    for (const member of this.#c.members.keys()) {
      const s = this.#c.state(member) ?? UNKNOWN_STATE
      if (common && (common.phase !== s.phase || common.readPercent !== s.readPercent)) return UNKNOWN_STATE
      common ??= s
    }
    return common ?? UNKNOWN_STATE
  }

  /** The side every member of the group is read from for `routingKey` now. */
  sideFor(routingKey: string): Side {
    return routeRead(this.name, this.state, routingKey)
  }

  /**
   * A read over several members, written as a Kysely select over their tables
   * (`t.from('sessions_v2').innerJoin(t.table('flows_v2'), …)`, each aliased as
   * its legacy table's name). Every table is read from the same side: with a
   * `routingKey`, the side the group's bucket gives it; without one, the shadow
   * only at 100 % (or once the shadow is authoritative). A compared read
   * compares the whole joined result of both sides.
   */
  async select<R = Record<string, unknown>>(build: GroupSelectBuilder<R>, options: ReadOptions = {}): Promise<R[]> {
    const state = this.state
    const served = selectServedSide(
      { route: (s, routingKey) => routeRead(this.name, s, routingKey) },
      state,
      options.routingKey,
    )
    const executor = callerExecutor(this.name, options.tx, this.#c.executor, this.#c.statements)
    const plan = groupSelectPlan(this.#kysely, this.name, this.#currentShapes(), build, this.#c.logger)
    return this.#c.reads.run(plan, state, served, executor, options.tx !== undefined)
  }
}
