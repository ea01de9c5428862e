/**
 * Ramp down is honest (issue 9.5): lowering the percentage sends exactly the
 * keys above it back to legacy, `cutover ramp` says how many routing keys moved
 * from the running instances' sample of recent reads, 100 % reads the shadow for
 * every key, and a read without a routing key is routed by its row key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rolloutBucket } from '../../src/core/bucket.js'
import type { Cutover } from '../../src/cutover/cutover.js'
import type { MigrationDal } from '../../src/dal/migration-dal.js'
import { runCli } from '../support/cli.js'
import { freshDatabase } from '../support/database.js'
import { connectCutover, order, setPhase, setupOrders } from '../support/orders-fixture.js'

const db = await freshDatabase()
let cutover: Cutover
let dal: MigrationDal
let close: () => Promise<void>
const ids = Array.from({ length: 300 }, (_, i) => i + 1)
const tenant = (id: number) => `tenant-${id}`
const cli = (...args: string[]) => runCli([...args, '--database-url', db.url, '--actor', 'oncall', '--reason', 'test'])

beforeAll(async () => {
  await setupOrders(db)
  // Comparison off (random 1): the test reads which side served each row from a mark on the shadow copy.
  const connected = await connectCutover(db, { random: () => 1 })
  cutover = connected.cutover
  close = async () => {
    await cutover.close()
    await connected.pool.end()
  }
  dal = await cutover.migration('orders_v2')
  await setPhase(db.pool, 'dual_write')
  await cutover.watcher.poll()
  await dal.insertMany(ids.map((id) => order(id)))
  await db.query("UPDATE orders_v2 SET status = 'from-shadow'")
})
afterAll(async () => close())

async function enterRamp(percent: number): Promise<void> {
  await setPhase(db.pool, 'ramp', percent)
  await cutover.watcher.poll()
  expect(dal.state).toMatchObject({ phase: 'ramp', readPercent: percent })
}

/** Ids whose read was served by the shadow, reading each by its routing key (or by row key when `byRowKey`). */
async function servedByShadow(byRowKey = false): Promise<number[]> {
  const shadow: number[] = []
  for (const id of ids) {
    const row = await dal.get(id, byRowKey ? {} : { routingKey: tenant(id) })
    if (row?.status === 'from-shadow') shadow.push(id)
  }
  return shadow
}

const bucketOf = (key: string) => rolloutBucket(key, 'orders_v2')

describe('ramp down', () => {
  it('says the estimate is unknown when no running instance has sampled ramp reads (runs first)', async () => {
    await enterRamp(40) // no ramp read has happened yet in this file
    const result = await cli('ramp', 'orders_v2', '35', '--json')
    expect(result.json()).toMatchObject({ keysMoved: { keys: 0, sampledKeys: 0, instances: 0 } })
    const human = await cli('ramp', 'orders_v2', '30')
    expect(human.stdout).toContain('keys moved: unknown')
  })

  it('at 50 % serves the shadow to exactly the routing keys in buckets 1..50', async () => {
    await enterRamp(50)
    expect(await servedByShadow()).toEqual(ids.filter((id) => bucketOf(tenant(id)) <= 50))
  })

  it('ramping 50 -> 20 says how many sampled routing keys move back, and moves exactly those', async () => {
    await enterRamp(50)
    await servedByShadow() // the application's recent reads, sampled by the instance
    await cutover.watcher.heartbeat()
    const expectedBack = ids.filter((id) => {
      const b = bucketOf(tenant(id))
      return b > 20 && b <= 50
    })
    expect(expectedBack.length).toBeGreaterThan(0)

    const result = await cli('ramp', 'orders_v2', '20', '--json')
    expect(result.code).toBe(0)
    expect(result.json()).toMatchObject({
      from: { phase: 'ramp', readPercent: 50 },
      to: { phase: 'ramp', readPercent: 20 },
      keysMoved: { direction: 'to_legacy', keys: expectedBack.length, sampledKeys: ids.length, instances: 1 },
    })

    await cutover.watcher.poll()
    expect(dal.state.readPercent).toBe(20)
    const nowShadow = await servedByShadow()
    expect(nowShadow).toEqual(ids.filter((id) => bucketOf(tenant(id)) <= 20))
    const before = new Set(ids.filter((id) => bucketOf(tenant(id)) <= 50))
    expect(ids.filter((id) => before.has(id) && !nowShadow.includes(id))).toEqual(expectedBack)
  })

  it('prints the estimate as a line a person can read, both ways', async () => {
    await enterRamp(20)
    await servedByShadow()
    await cutover.watcher.heartbeat()
    const up = await cli('ramp', 'orders_v2', '30')
    expect(up.code).toBe(0)
    const toShadow = ids.filter((id) => {
      const b = bucketOf(tenant(id))
      return b > 20 && b <= 30
    }).length
    expect(up.stdout).toContain(`keys moved to the shadow: about ${toShadow} of ${ids.length}`)
    const down = await cli('ramp', 'orders_v2', '10')
    const toLegacy = ids.filter((id) => {
      const b = bucketOf(tenant(id))
      return b > 10 && b <= 30
    }).length
    expect(down.stdout).toContain(`keys moved back to legacy: about ${toLegacy} of ${ids.length}`)
  })

  it('at 100 % serves every key from the shadow, whatever its bucket', async () => {
    await enterRamp(100)
    expect(await servedByShadow()).toEqual(ids)
    expect(await servedByShadow(true)).toEqual(ids)
  })

  it('a read without a routing key is routed by its row key', async () => {
    await enterRamp(40)
    expect(await servedByShadow(true)).toEqual(ids.filter((id) => bucketOf(String(id)) <= 40))
    // and the row-key buckets differ from the tenant buckets, so the two really are different keys
    expect(ids.filter((id) => bucketOf(String(id)) <= 40)).not.toEqual(ids.filter((id) => bucketOf(tenant(id)) <= 40))
  })
})
