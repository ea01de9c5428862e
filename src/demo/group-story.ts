/**
 * The demo's group story: two related tables (teams, and members referencing
 * their team in both shapes) ramped together as one group, read from one side
 * per routing key, and rolled back with one command.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type pg from 'pg'
import pino from 'pino'
import { Registry } from 'prom-client'
import { Cutover } from '../cutover/cutover.js'

export const DEMO_GROUP = 'demo_teams'

const GROUP_DDL = `
  CREATE TABLE demo_team (id integer PRIMARY KEY, name text NOT NULL, budget_cents integer NOT NULL);
  CREATE TABLE demo_member (id integer PRIMARY KEY, team_id integer NOT NULL REFERENCES demo_team (id), login varchar(40) NOT NULL);
  CREATE TABLE demo_team_v2 (id integer PRIMARY KEY, name text NOT NULL, budget numeric(12,2) NOT NULL);
  CREATE TABLE demo_member_v2 (id integer PRIMARY KEY, team_id integer NOT NULL REFERENCES demo_team_v2 (id), login text NOT NULL);
  INSERT INTO demo_team SELECT g, 'team ' || g, g * 1000 FROM generate_series(1, 200) AS g;
  INSERT INTO demo_member SELECT g, 1 + g % 200, 'user' || g FROM generate_series(1, 1000) AS g;
`

const GROUP_CONFIG = {
  migrations: [
    {
      name: 'demo_team_v2',
      legacy: { table: 'public.demo_team', key: ['id'] },
      shadow: { table: 'public.demo_team_v2', key: ['id'] },
      forward: { budget: 'budget_cents / 100.0' },
      backward: { budget_cents: '(budget * 100)::int' },
      soakSeconds: 1,
    },
    {
      name: 'demo_member_v2',
      legacy: { table: 'public.demo_member', key: ['id'] },
      shadow: { table: 'public.demo_member_v2', key: ['id'] },
      forward: { login: 'login::text' },
      backward: { login: 'login::varchar(40)' },
      soakSeconds: 1,
    },
  ],
  groups: [{ name: DEMO_GROUP, migrations: ['demo_team_v2', 'demo_member_v2'] }],
}

export interface GroupStoryContext {
  readonly pool: pg.Pool
  readonly dir: string
  readonly say: (line?: string) => void
  /** Runs a CLI command line and prints it; resolves to its exit code. */
  readonly run: (...args: string[]) => Promise<number>
  /** The same, failing the demo on a non-zero exit code. */
  readonly must: (...args: string[]) => Promise<void>
}

export async function runGroupStory({ pool, dir, say, run, must }: GroupStoryContext): Promise<void> {
  await pool.query(GROUP_DDL)
  const config = join(dir, 'group.json')
  await writeFile(config, JSON.stringify(GROUP_CONFIG, null, 2))
  say(
    '   demo_team -> demo_team_v2 (cents to numeric) and demo_member -> demo_member_v2; each member row references its team, in both shapes',
  )
  await must('register', '--config', config, '--reason', 'demo: move teams and their members together')

  say('   a member of a group never moves alone; the refusal names the group:')
  if ((await run('advance', 'demo_member_v2', '--to', 'dual_write')) === 0)
    throw new Error('a group member moved alone')
  // The group's precheck judges each member row against the team row it references, as the backfill will copy it,
  // so the gate of dual_write passes without --force.
  await must('precheck', DEMO_GROUP)
  await must('advance', DEMO_GROUP, '--to', 'dual_write', '--reason', 'demo: teams and their members get dual writes')
  await must('backfill', DEMO_GROUP)
  await must('verify', DEMO_GROUP)
  await must('advance', DEMO_GROUP, '--to', 'shadow_read', '--reason', 'compare every read')
  await must('ramp', DEMO_GROUP, '50', '--reason', 'half of the tenants see the new tables')

  const cutover = await Cutover.connect({ pool, registry: new Registry(), logger: pino({ level: 'silent' }) })
  try {
    await cutover.watcher.poll()
    const group = await cutover.group(DEMO_GROUP)
    const tenants = Array.from({ length: 1000 }, (_, i) => `tenant-${i}`)
    const onShadow = tenants.filter((t) => group.sideFor(t) === 'shadow').length
    say(
      `   at 50 %: of 1,000 tenants, ${onShadow} read both tables from the new shape and ${1000 - onShadow} both from legacy; the bucket is the group's, so none sees a mix`,
    )
    const tenant = tenants.find((t) => group.sideFor(t) === 'shadow') ?? 'tenant-0'
    const joined = await group.select(
      (t) =>
        t
          .from('demo_team_v2')
          .innerJoin(t.table('demo_member_v2'), 'demo_member.team_id', 'demo_team.id')
          .select(['demo_team.name', 'demo_team.budget_cents', 'demo_member.login'])
          .where('demo_team.id', '=', 7)
          .orderBy('demo_member.login'),
      { routingKey: tenant },
    )
    say(
      `   ${tenant} joins a team with its members, both tables from the ${group.sideFor(tenant)} side, in the legacy shape: ${JSON.stringify(joined.slice(0, 2))} …`,
    )
  } finally {
    await cutover.close()
  }

  say('   something looks wrong: one command puts the whole group back on legacy, in one event')
  await must('rollback', DEMO_GROUP, '--reason', 'demo: undo the group')
  await must('status', DEMO_GROUP)
}
