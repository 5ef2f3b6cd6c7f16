/**
 * @module analytics/retention — minute buckets for ANALYTICS_RETENTION_MINUTE_DAYS, hourly for
 * ANALYTICS_RETENTION_HOUR_DAYS, daily for ANALYTICS_RETENTION_DAY_DAYS (0 = forever). Every
 * instance runs it; a delete by age is idempotent, so running it twice costs only the query.
 */
import { and, eq, lt } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Db } from '../db/client.js'
import { analyticsBuckets, analyticsSiteDays, type Granularity } from '../db/schema/index.js'
import { every } from '../lib/every.js'
import { errText, type Logger } from '../log.js'

type RetentionConfig = Pick<
  Config,
  'ANALYTICS_RETENTION_MINUTE_DAYS' | 'ANALYTICS_RETENTION_HOUR_DAYS' | 'ANALYTICS_RETENTION_DAY_DAYS'
>

export function retentionDays(config: RetentionConfig): Record<Granularity, number> {
  return {
    minute: config.ANALYTICS_RETENTION_MINUTE_DAYS,
    hour: config.ANALYTICS_RETENTION_HOUR_DAYS,
    day: config.ANALYTICS_RETENTION_DAY_DAYS,
  }
}

/** Deletes what is past retention as of `now`; → rows deleted per granularity. */
export async function applyRetention(db: Db, config: RetentionConfig, now: number) {
  const out: Partial<Record<Granularity, number>> = {}
  for (const [g, days] of Object.entries(retentionDays(config)) as [Granularity, number][]) {
    if (days === 0) continue
    const before = new Date(now - days * 86_400_000)
    const deleted = await db
      .delete(analyticsBuckets)
      .where(and(eq(analyticsBuckets.granularity, g), lt(analyticsBuckets.t, before)))
    out[g] = (deleted as unknown as { count: number }).count
    if (g === 'day') await db.delete(analyticsSiteDays).where(lt(analyticsSiteDays.t, before))
  }
  return out
}

export function startAnalyticsRetention(deps: {
  db: Db
  config: RetentionConfig
  log: Logger
  now: () => number
}) {
  return every(3_600_000, () => applyRetention(deps.db, deps.config, deps.now()), {
    immediate: true,
    onError: (err) => deps.log.warn({ err: errText(err) }, 'analytics: retention failed'),
  })
}
