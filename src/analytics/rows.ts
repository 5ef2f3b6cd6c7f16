/**
 * @module analytics/rows — the Postgres side of a flush: bucket deltas, merged while they wait
 * (a failed write is retried with the next flush's counts added in), then written in one
 * transaction of upserts whose size is bounded by channels × buckets.
 */
import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { analyticsBuckets, analyticsSiteDays, type Granularity, streamSessions } from '../db/schema/index.js'

export type BucketDelta = {
  channelId: string
  granularity: Granularity
  t: number
  views: number
  pageViews: number
  watchMs: number
  concSum: number
  concSamples: number
  peakConcurrent: number
  uniqueViewers: number
  hll: Buffer | null
}

export type Pending = {
  buckets: Map<string, BucketDelta>
  /** sessionId → { watchMs to add, unique viewers so far } */
  sessions: Map<string, { watchMs: number; uniqueViewers: number }>
  siteDays: Map<number, { uniqueViewers: number; hll: Buffer | null }>
}

export const emptyPending = (): Pending => ({ buckets: new Map(), sessions: new Map(), siteDays: new Map() })

export function bucketDelta(p: Pending, channelId: string, granularity: Granularity, t: number): BucketDelta {
  const key = `${channelId}|${granularity}|${t}`
  let d = p.buckets.get(key)
  if (!d) {
    d = {
      channelId,
      granularity,
      t,
      views: 0,
      pageViews: 0,
      watchMs: 0,
      concSum: 0,
      concSamples: 0,
      peakConcurrent: 0,
      uniqueViewers: 0,
      hll: null,
    }
    p.buckets.set(key, d)
  }
  return d
}

/** Counters add up; peaks, unique counts and HyperLogLog copies only ever move forward. */
export async function writePending(db: Db, p: Pending): Promise<number> {
  const rows = [...p.buckets.values()]
  await db.transaction(async (tx) => {
    // Sorted so concurrent flushes of several instances lock rows in one order (no deadlock).
    rows.sort((a, b) => (a.channelId + a.granularity + a.t < b.channelId + b.granularity + b.t ? -1 : 1))
    for (let i = 0; i < rows.length; i += 1000) {
      await tx
        .insert(analyticsBuckets)
        .values(rows.slice(i, i + 1000).map((r) => ({ ...r, t: new Date(r.t) })))
        .onConflictDoUpdate({
          target: [analyticsBuckets.channelId, analyticsBuckets.granularity, analyticsBuckets.t],
          set: {
            views: sql`${analyticsBuckets.views} + excluded.views`,
            pageViews: sql`${analyticsBuckets.pageViews} + excluded.page_views`,
            watchMs: sql`${analyticsBuckets.watchMs} + excluded.watch_ms`,
            concSum: sql`${analyticsBuckets.concSum} + excluded.conc_sum`,
            concSamples: sql`${analyticsBuckets.concSamples} + excluded.conc_samples`,
            peakConcurrent: sql`greatest(${analyticsBuckets.peakConcurrent}, excluded.peak_concurrent)`,
            uniqueViewers: sql`greatest(${analyticsBuckets.uniqueViewers}, excluded.unique_viewers)`,
            hll: sql`coalesce(excluded.hll, ${analyticsBuckets.hll})`,
          },
        })
    }
    for (const [t, d] of [...p.siteDays].sort((a, b) => a[0] - b[0])) {
      await tx
        .insert(analyticsSiteDays)
        .values({ t: new Date(t), uniqueViewers: d.uniqueViewers, hll: d.hll })
        .onConflictDoUpdate({
          target: analyticsSiteDays.t,
          set: {
            uniqueViewers: sql`greatest(${analyticsSiteDays.uniqueViewers}, excluded.unique_viewers)`,
            hll: sql`coalesce(excluded.hll, ${analyticsSiteDays.hll})`,
          },
        })
    }
    for (const [id, s] of [...p.sessions].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      await tx
        .update(streamSessions)
        .set({
          watchTimeMs: sql`${streamSessions.watchTimeMs} + ${s.watchMs}`,
          uniqueViewers: sql`greatest(${streamSessions.uniqueViewers}, ${s.uniqueViewers})`,
        })
        .where(sql`${streamSessions.id} = ${id}`)
    }
  })
  return rows.length + p.siteDays.size + p.sessions.size
}
