/**
 * @module analytics/query — the figures the API serves, read from the bucket rows. Unique viewers
 * of a range are a union of the stored HyperLogLogs (merged in Redis), never a sum of counts.
 */
import { randomBytes } from 'node:crypto'
import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { analyticsBuckets, analyticsSiteDays, channels, type Granularity } from '../db/schema/index.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import { bucketStarts, floorTo, STEP_MS } from './buckets.js'

export type Totals = {
  views: number
  uniqueViewers: number
  watchTimeS: number
  avgViewDurationS: number
  peakConcurrent: number
}
export type Point = {
  t: string
  views: number
  watchTimeS: number
  avgConcurrent: number
  peakConcurrent: number
}

type Deps = { db: Db; redis: Redis; keys: Keys }

const seconds = (ms: number) => Math.round(ms / 100) / 10
const totalsOf = (views: number, watchMs: number, peak: number, unique: number): Totals => ({
  views,
  uniqueViewers: unique,
  watchTimeS: seconds(watchMs),
  avgViewDurationS: views > 0 ? seconds(watchMs / views) : 0,
  peakConcurrent: peak,
})

/**
 * |⋃ HyperLogLogs|: copies them into temporary keys of one hash slot (`tag` picks it) and lets
 * PFCOUNT union them. Redis checks each copy is a valid HyperLogLog.
 */
async function unionCount(redis: Redis, tmpKey: (id: string) => string, hlls: Buffer[]): Promise<number> {
  if (hlls.length === 0) return 0
  const run = randomBytes(6).toString('hex')
  const dest = tmpKey(`${run}:u`)
  const keys: string[] = []
  try {
    for (let i = 0; i < hlls.length; i += 500) {
      const chunk = hlls.slice(i, i + 500).map((_, j) => tmpKey(`${run}:${i + j}`))
      keys.push(...chunk)
      await Promise.all(chunk.map((k, j) => redis.set(k, hlls[i + j]!, 'PX', 30_000)))
      await redis.pfmerge(dest, ...chunk)
    }
    return await redis.pfcount(dest)
  } finally {
    await Promise.all([dest, ...keys].map((k) => redis.del(k)))
  }
}

/**
 * The HyperLogLogs that cover [from, to): whole UTC days inside it, and hours for the ragged
 * edges (a range that starts or ends mid-hour is widened to the hour).
 */
function coveringBuckets(from: number, to: number) {
  const firstDay = floorTo(from + STEP_MS.day - 1, 'day')
  const endDay = floorTo(to, 'day')
  if (endDay <= firstDay) return { days: [] as number[], hours: bucketStarts(from, to, 'hour') }
  return {
    days: bucketStarts(firstDay, endDay, 'day'),
    hours: [...bucketStarts(from, firstDay, 'hour'), ...bucketStarts(endDay, to, 'hour')],
  }
}

export async function channelAnalytics(
  deps: Deps,
  channel: { id: string; name: string },
  from: number,
  to: number,
  bucket: Granularity,
): Promise<{ totals: Totals; series: Point[]; sources: { page: number; other: number } }> {
  const start = floorTo(from, bucket)
  const rows = await deps.db
    .select({
      t: analyticsBuckets.t,
      views: analyticsBuckets.views,
      pageViews: analyticsBuckets.pageViews,
      watchMs: analyticsBuckets.watchMs,
      concSum: analyticsBuckets.concSum,
      concSamples: analyticsBuckets.concSamples,
      peak: analyticsBuckets.peakConcurrent,
    })
    .from(analyticsBuckets)
    .where(
      and(
        eq(analyticsBuckets.channelId, channel.id),
        eq(analyticsBuckets.granularity, bucket),
        gte(analyticsBuckets.t, new Date(start)),
        lt(analyticsBuckets.t, new Date(to)),
      ),
    )
    .orderBy(asc(analyticsBuckets.t))
  const byT = new Map(rows.map((r) => [r.t.getTime(), r]))
  let views = 0
  let pageViews = 0
  let watchMs = 0
  let peak = 0
  // Every bucket of the range, zeros included: a chart's x axis is time, not "rows that exist".
  const series = bucketStarts(from, to, bucket).map((t): Point => {
    const r = byT.get(t)
    views += r?.views ?? 0
    pageViews += r?.pageViews ?? 0
    watchMs += r?.watchMs ?? 0
    peak = Math.max(peak, r?.peak ?? 0)
    return {
      t: new Date(t).toISOString(),
      views: r?.views ?? 0,
      watchTimeS: seconds(r?.watchMs ?? 0),
      avgConcurrent: r && r.concSamples > 0 ? Math.round((r.concSum / r.concSamples) * 100) / 100 : 0,
      peakConcurrent: r?.peak ?? 0,
    }
  })
  const cover = coveringBuckets(from, to)
  const hllRows = await deps.db
    .select({ hll: analyticsBuckets.hll })
    .from(analyticsBuckets)
    .where(
      and(
        eq(analyticsBuckets.channelId, channel.id),
        sql`(${analyticsBuckets.granularity}, ${analyticsBuckets.t}) in (${sql.join(
          [
            ...cover.days.map((t) => sql`('day', ${new Date(t).toISOString()}::timestamptz)`),
            ...cover.hours.map((t) => sql`('hour', ${new Date(t).toISOString()}::timestamptz)`),
            // Matches nothing: keeps the list non-empty for a range with no bucket to cover.
            sql`('none', now())`,
          ],
          sql`, `,
        )})`,
      ),
    )
  const hlls = hllRows.flatMap((r) => (r.hll ? [r.hll] : []))
  const unique = await unionCount(deps.redis, (id) => deps.keys.analyticsTmp(channel.name, id), hlls)
  // Where views were watched: our page (it sends the viewer cookie) or any other player.
  return {
    totals: totalsOf(views, watchMs, peak, unique),
    series,
    sources: { page: pageViews, other: views - pageViews },
  }
}

/** Site-wide totals over whole UTC days (admins). Peak concurrent is the busiest channel's peak. */
export async function siteAnalytics(deps: Deps, from: number, to: number) {
  const start = floorTo(from, 'day')
  const range = and(
    eq(analyticsBuckets.granularity, 'day'),
    gte(analyticsBuckets.t, new Date(start)),
    lt(analyticsBuckets.t, new Date(to)),
  )
  const [sum] = await deps.db
    .select({
      views: sql<number>`coalesce(sum(${analyticsBuckets.views}), 0)::int`,
      pageViews: sql<number>`coalesce(sum(${analyticsBuckets.pageViews}), 0)::int`,
      watchMs: sql<number>`coalesce(sum(${analyticsBuckets.watchMs}), 0)::float8`,
      peak: sql<number>`coalesce(max(${analyticsBuckets.peakConcurrent}), 0)::int`,
      channels: sql<number>`count(distinct ${analyticsBuckets.channelId})::int`,
    })
    .from(analyticsBuckets)
    .where(range)
  const top = await deps.db
    .select({
      name: channels.name,
      views: sql<number>`sum(${analyticsBuckets.views})::int`,
      watchMs: sql<number>`sum(${analyticsBuckets.watchMs})::float8`,
    })
    .from(analyticsBuckets)
    .innerJoin(channels, eq(channels.id, analyticsBuckets.channelId))
    .where(range)
    .groupBy(channels.name)
    .orderBy(sql`sum(${analyticsBuckets.watchMs}) desc`)
    .limit(10)
  const days = bucketStarts(start, to, 'day').map((t) => new Date(t))
  const hllRows = days.length
    ? await deps.db
        .select({ hll: analyticsSiteDays.hll })
        .from(analyticsSiteDays)
        .where(inArray(analyticsSiteDays.t, days))
    : []
  const unique = await unionCount(
    deps.redis,
    (id) => deps.keys.analyticsSiteTmp(id),
    hllRows.flatMap((r) => (r.hll ? [r.hll] : [])),
  )
  const s = sum ?? { views: 0, pageViews: 0, watchMs: 0, peak: 0, channels: 0 }
  return {
    from: new Date(start).toISOString(),
    to: new Date(to).toISOString(),
    totals: { ...totalsOf(s.views, s.watchMs, s.peak, unique), pageViews: s.pageViews, channels: s.channels },
    topChannels: top.map((r) => ({ name: r.name, views: r.views, watchTimeS: seconds(r.watchMs) })),
  }
}
