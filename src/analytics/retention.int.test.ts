/** Retention: minute, hour and day buckets each go at their own age; 0 keeps forever. */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createUser } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { analyticsBuckets, channels, type Granularity } from '../db/schema/index.js'
import { applyRetention } from './retention.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

it('deletes each granularity past its retention and keeps the rest', async () => {
  const user = await createUser(t.deps)
  const [ch] = await t.deps.db.select().from(channels).where(eq(channels.ownerId, user.id))
  const now = Date.parse('2026-06-15T12:00:00Z')
  const day = 86_400_000
  const rows: [Granularity, number][] = [
    ['minute', now - 29 * day],
    ['minute', now - 31 * day],
    ['hour', now - 395 * day],
    ['hour', now - 397 * day],
    ['day', now - 5000 * day],
  ]
  await t.deps.db
    .insert(analyticsBuckets)
    .values(rows.map(([granularity, at]) => ({ channelId: ch!.id, granularity, t: new Date(at) })))
  const config = {
    ANALYTICS_RETENTION_MINUTE_DAYS: 30,
    ANALYTICS_RETENTION_HOUR_DAYS: 396,
    ANALYTICS_RETENTION_DAY_DAYS: 0,
  }
  // Counts cover every channel (other test files' rows too): only this channel's rows are checked.
  const deleted = await applyRetention(t.deps.db, config, now)
  expect(deleted.minute).toBeGreaterThanOrEqual(1)
  expect(deleted.day).toBeUndefined()
  const left = await t.deps.db
    .select({ g: analyticsBuckets.granularity, t: analyticsBuckets.t })
    .from(analyticsBuckets)
    .where(eq(analyticsBuckets.channelId, ch!.id))
  expect(left.map((r) => [r.g, (now - r.t.getTime()) / day]).sort()).toEqual([
    ['day', 5000],
    ['hour', 395],
    ['minute', 29],
  ])
})
