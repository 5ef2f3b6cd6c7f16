/**
 * @module db/schema/qoe-minutes — quality of experience from our player, one row per channel,
 * broadcast and minute (never one per report): startup and latency histograms
 * (analytics/qoe-histogram.ts layout, trailing empty bins left off), played and stalled time,
 * stalls and errors. Rows from several instances for the same minute merge on conflict.
 */
import { sql } from 'drizzle-orm'
import { bigint, index, integer, jsonb, pgTable, unique, uuid } from 'drizzle-orm/pg-core'
import { tstz } from '../columns.js'
import { channels } from './channels.js'

export const qoeMinutes = pgTable(
  'qoe_minutes',
  {
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    /**
     * The broadcast being watched (stream_sessions.id); null if the instance knew of none. No
     * foreign key: the id comes from the live registry in Redis, and the history row it names is
     * written by the durable path's consumer, possibly after our flush.
     */
    sessionId: uuid('session_id'),
    /** Start of the UTC minute the reports were received in. */
    minute: tstz('minute').notNull(),
    startupHist: integer('startup_hist').array().notNull().default(sql`'{}'`),
    latencyHist: integer('latency_hist').array().notNull().default(sql`'{}'`),
    playedMs: bigint('played_ms', { mode: 'number' }).notNull().default(0),
    stalledMs: bigint('stalled_ms', { mode: 'number' }).notNull().default(0),
    stalls: integer('stalls').notNull().default(0),
    /** `<hls.js error type>.fatal|nonfatal` → count */
    errors: jsonb('errors').$type<Record<string, number>>().notNull().default({}),
    reports: integer('reports').notNull().default(0),
  },
  (t) => [
    // One row per (channel, minute, broadcast), a null broadcast included: the upsert's target.
    unique('qoe_minutes_key').on(t.channelId, t.minute, t.sessionId).nullsNotDistinct(),
    index('qoe_minutes_session_idx').on(t.sessionId),
  ],
)

export type QoeMinute = typeof qoeMinutes.$inferSelect
