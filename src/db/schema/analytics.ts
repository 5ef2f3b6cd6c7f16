/**
 * @module db/schema/analytics — watch analytics per channel and time bucket (analytics/). One row
 * per (channel, granularity, bucket start): Postgres writes are bounded by channels × buckets,
 * never by viewers or requests. Raw requests are never stored.
 */
import { bigint, customType, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { tstz } from '../columns.js'
import { channels } from './channels.js'

export const GRANULARITIES = ['minute', 'hour', 'day'] as const
export type Granularity = (typeof GRANULARITIES)[number]

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })

export const analyticsBuckets = pgTable(
  'analytics_buckets',
  {
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    granularity: text('granularity', { enum: GRANULARITIES }).notNull(),
    /** Bucket start, UTC. */
    t: tstz('t').notNull(),
    /** Views started in this bucket (a view belongs to the bucket of its first request). */
    views: integer('views').notNull().default(0),
    /** Of those, views from our own page (viewer cookie); the rest came from other players. */
    pageViews: integer('page_views').notNull().default(0),
    /** Media delivered: Σ segment durations of segments served (analytics/segments.ts). */
    watchMs: bigint('watch_ms', { mode: 'number' }).notNull().default(0),
    /** Concurrent-viewer samples: their sum and number (average = sum / samples) and maximum. */
    concSum: bigint('conc_sum', { mode: 'number' }).notNull().default(0),
    concSamples: integer('conc_samples').notNull().default(0),
    peakConcurrent: integer('peak_concurrent').notNull().default(0),
    /** Distinct viewers in the bucket (HyperLogLog estimate); hour and day rows only. */
    uniqueViewers: integer('unique_viewers').notNull().default(0),
    /** The bucket's Redis HyperLogLog, so unique viewers of any range can be merged later. */
    hll: bytea('hll'),
  },
  (t) => [
    primaryKey({ columns: [t.channelId, t.granularity, t.t] }),
    // Retention deletes by granularity and age across all channels.
    index('analytics_buckets_retention_idx').on(t.granularity, t.t),
  ],
)

export type AnalyticsBucket = typeof analyticsBuckets.$inferSelect

/** Site-wide distinct viewers per UTC day (all channels), for the admin totals. */
export const analyticsSiteDays = pgTable('analytics_site_days', {
  t: tstz('t').primaryKey(),
  uniqueViewers: integer('unique_viewers').notNull().default(0),
  hll: bytea('hll'),
})
