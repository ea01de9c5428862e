/**
 * Compiled, never run (test/types/typed-dal.test.ts, and `npm run typecheck`):
 * the DAL typed by the application's own Kysely database type. Each
 * `@ts-expect-error` line must not compile; its last quoted word is what the
 * compiler's message must name. Everything else must compile as it stands.
 */
import type { ColumnType, Generated, Kysely, SelectQueryBuilder } from 'kysely'
import type pg from 'pg'
import { expectTypeOf } from 'vitest'
import { Cutover, type MigrationDal, type Row } from '../../src/index.js'

interface Database {
  users: {
    id: Generated<number>
    email: string
    full_name: string
    created_at: ColumnType<Date, string | undefined, never>
  }
  orders: { id: number; user_id: number; total_cents: number }
}

interface UserRow {
  id: number
  email: string
  full_name: string
  created_at: Date
}

/** A select the application already has for the legacy table, written against its own Kysely. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
const byDomain = (from: SelectQueryBuilder<Database, 'users', {}>, domain: string) =>
  from.select(['users.id', 'users.email']).where('users.email', 'like', `%@${domain}`).orderBy('users.id')

export async function typed(pool: pg.Pool, db: Kysely<Database>): Promise<void> {
  const cutover = await Cutover.connect<Database>({ pool })
  const users = await cutover.migration<'users'>('users_v2')
  expectTypeOf(users).toEqualTypeOf<MigrationDal<Database, 'users'>>()

  expectTypeOf(await users.insert({ email: 'ada@example.com', full_name: 'Ada Lovelace' })).toEqualTypeOf<UserRow>()
  expectTypeOf(
    await users.insert({ email: 'ada@example.com', full_name: 'Ada Lovelace' }, { returning: false }),
  ).toEqualTypeOf<undefined>()
  expectTypeOf(
    await users.insert({ email: 'ada@example.com', full_name: 'Ada Lovelace' }, { returning: 'key' }),
  ).toEqualTypeOf<Partial<UserRow>>()
  expectTypeOf(
    await users.insertMany([{ id: 7, email: 'a@example.com', full_name: 'A B', created_at: '2026-01-01' }]),
  ).toEqualTypeOf<UserRow[]>()
  expectTypeOf(await users.update(1, { email: 'turing@example.com' })).toEqualTypeOf<UserRow | undefined>()
  expectTypeOf(
    await users.upsert({ id: 1, email: 'ada@example.com', full_name: 'Ada Lovelace' }),
  ).toEqualTypeOf<UserRow>()
  expectTypeOf(await users.get({ id: 1 })).toEqualTypeOf<UserRow | undefined>()
  expectTypeOf(await users.delete(1)).toEqualTypeOf<UserRow | undefined>()
  expectTypeOf(await users.select((from) => from.selectAll())).toEqualTypeOf<UserRow[]>()
  expectTypeOf(
    await users.select((from) => from.select(['id', 'email']).where('email', 'like', '%@example.com')),
  ).toEqualTypeOf<{ id: number; email: string }[]>()
  // The same select compiles against the application's Kysely and the DAL.
  expectTypeOf(await byDomain(db.selectFrom('users'), 'example.com').execute()).toEqualTypeOf<
    { id: number; email: string }[]
  >()
  expectTypeOf(await users.select((from) => byDomain(from, 'example.com'), { routingKey: 'tenant-42' })).toEqualTypeOf<
    { id: number; email: string }[]
  >()

  // @ts-expect-error a misspelt column in an insert: "emial"
  await users.insert({ emial: 'ada@example.com', full_name: 'Ada Lovelace' })
  // @ts-expect-error a misspelt column in insertMany: "fullname"
  await users.insertMany([{ email: 'ada@example.com', fullname: 'Ada Lovelace' }])
  // @ts-expect-error a misspelt column in an upsert: "emial"
  await users.upsert({ id: 1, emial: 'ada@example.com', full_name: 'Ada Lovelace' })
  // @ts-expect-error a misspelt column in an update: "emial"
  await users.update(1, { emial: 'turing@example.com' })
  // @ts-expect-error a misspelt key column: "idd"
  await users.get({ idd: 1 })
  // @ts-expect-error a misspelt key column in a delete: "idd"
  await users.delete({ idd: 1 })
  // @ts-expect-error a misspelt column in a select: "emial"
  await users.select((from) => from.select(['id', 'emial']))
  // @ts-expect-error a misspelt column in a where: "emial"
  await users.select((from) => from.selectAll().where('emial', '=', 'ada@example.com'))
  // @ts-expect-error another table's column: "total_cents"
  await users.insert({ email: 'ada@example.com', full_name: 'Ada Lovelace', total_cents: 100 })
  // @ts-expect-error a value of the wrong type: "number"
  await users.update(1, { email: 42 })
  // @ts-expect-error a required column left out: "full_name"
  await users.insert({ email: 'ada@example.com' })
  // @ts-expect-error a column its ColumnType makes read-only in updates: "created_at"
  await users.update(1, { created_at: '2026-01-01' })
  // @ts-expect-error a misspelt legacy table: "userz"
  await cutover.migration<'userz'>('users_v2')
}

export async function untyped(pool: pg.Pool): Promise<void> {
  const cutover = await Cutover.connect({ pool })
  const users = await cutover.migration('users_v2')
  expectTypeOf(users).toEqualTypeOf<MigrationDal>()
  expectTypeOf(await users.insert({ id: 1, anything: 'goes' })).toEqualTypeOf<Row>()
  expectTypeOf(await users.update(1, { anything: 'goes' })).toEqualTypeOf<Row | undefined>()
  expectTypeOf(await users.get({ id: 1 })).toEqualTypeOf<Row | undefined>()
  await users.select((from) => from.selectAll().where('anything', '=', 1))
  // A typed Cutover without a table named: the same untyped DAL.
  const typedCutover = await Cutover.connect<Database>({ pool })
  expectTypeOf(await (await typedCutover.migration('users_v2')).get(1)).toEqualTypeOf<Row | undefined>()
}
