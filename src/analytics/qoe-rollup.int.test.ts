/**
 * Retention by coarsening against the real Postgres: old minute rows fold into hours, older hour
 * rows into days, and the figures over the range are exactly what they were.
 */
import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { channels, qoeMinutes } from '../db/schema/index.js'
import { emptyHistogram, record, total } from './qoe-histogram.js'
import { rollUpQoe } from './qoe-rollup.js'
import { qoeSummary } from './qoe-summary.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t?.close())

const DAY = 86_400_000
const hist = (...ms: number[]) => {
  const h = emptyHistogram()
  for (const v of ms) record(h, v)
  return h
}

describe('rollUpQoe', () => {
  it('folds minutes past 30 days into hours and hours past 13 months into days, keeping the figures', async () => {
    const owner = await createUser(t.deps)
    const [ch] = await t.deps.db.select().from(channels).where(eq(channels.name, owner.username))
    const now = Date.UTC(2026, 10, 29, 12, 0, 0)
    const session = randomUUID()
    const at = (daysAgo: number, h: number, m: number) =>
      new Date(now - daysAgo * DAY + h * 3600_000 + m * 60_000)
    const row = (
      minute: Date,
      sessionId: string | null,
      startup: number[],
      latency: number[],
      n: number,
    ) => ({
      channelId: ch!.id,
      sessionId,
      minute,
      startupHist: hist(...startup),
      latencyHist: hist(...latency),
      playedMs: 50_000 * n,
      stalledMs: 1000 * n,
      stalls: n,
      errors: { 'networkError.nonfatal': n },
      reports: n,
    })
    await t.deps.db.insert(qoeMinutes).values([
      // 40 days ago: three minutes of one broadcast in one hour, one in the next; one with no broadcast.
      row(at(40, 0, 1), session, [1200], [3000], 1),
      row(at(40, 0, 2), session, [], [3100, 3300], 2),
      row(at(40, 0, 59), session, [2500], [2900], 1),
      row(at(40, 1, 5), session, [900], [4000], 3),
      row(at(40, 0, 30), null, [700], [5000], 1),
      // 400 days ago: two hour-aligned rows of one day (already rolled up once) and a minute row.
      row(at(400, -11, 0), session, [3000], [6000], 1),
      row(at(400, -10, 0), session, [3100], [6100], 1),
      row(at(400, -10, 17), session, [], [6200], 1),
      // Yesterday: kept as it is.
      row(at(1, 0, 3), session, [1000], [2000], 1),
    ])
    const range = [new Date(now - 500 * DAY), new Date(now)] as const
    const before = await qoeSummary(t.deps.db, ch!.id, ...range)

    const moved = await rollUpQoe(t.deps.db, { minuteDays: 30, hourDays: 396 }, now)
    // Five minute rows of 40 days ago and the one of 400 days ago; then the two hours of that day.
    expect(moved).toEqual({ hour: 6, day: 2 })

    const rows = await t.deps.db.select().from(qoeMinutes).where(eq(qoeMinutes.channelId, ch!.id))
    const byTime = (d: Date, s: string | null = session) =>
      rows.find((r) => r.minute.getTime() === d.getTime() && r.sessionId === s)
    // 00:01 + 00:02 + 00:59 → 00:00 (a new row); 01:05 → 01:00; the sessionless 00:30 → its own 00:00.
    const h0 = byTime(at(40, 0, 0))!
    expect(total(h0.startupHist)).toBe(2)
    expect(total(h0.latencyHist)).toBe(4)
    expect(h0).toMatchObject({ playedMs: 200_000, stalledMs: 4000, stalls: 4, reports: 4 })
    expect(h0.errors).toEqual({ 'networkError.nonfatal': 4 })
    expect(byTime(at(40, 1, 0))).toMatchObject({ stalls: 3 })
    expect(byTime(at(40, 0, 0), null)).toMatchObject({ stalls: 1 })
    // The day: 00:00 of that UTC day holds all three of its rows (none was at midnight before).
    const dayStart = new Date(Math.floor(at(400, -10, 0).getTime() / DAY) * DAY)
    expect(byTime(dayStart)).toMatchObject({ stalls: 3, reports: 3 })
    expect(total(byTime(dayStart)!.latencyHist)).toBe(3)
    expect(byTime(at(1, 0, 3))).toMatchObject({ stalls: 1 })
    expect(rows).toHaveLength(5)

    // Exactly the same figures: histograms and sums are merged, not resampled.
    expect(await qoeSummary(t.deps.db, ch!.id, ...range)).toEqual(before)
    // Running it again finds nothing more to do.
    expect(await rollUpQoe(t.deps.db, { minuteDays: 30, hourDays: 396 }, now)).toEqual({ hour: 0, day: 0 })
  })
})
