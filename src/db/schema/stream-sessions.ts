/** @module db/schema/stream-sessions — history: one row per broadcast, from first publish to its end. */
import { sql } from 'drizzle-orm'
import { bigint, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz } from '../columns.js'
import { channels } from './channels.js'
import { streamKeys } from './stream-keys.js'

export const END_REASONS = [
  'publisher_left',
  'key_revoked',
  'kicked',
  'account_disabled',
  'max_duration',
  'idle',
  'ingest_lost',
  'replaced',
] as const
export type EndReason = (typeof END_REASONS)[number]

export const streamSessions = pgTable(
  'stream_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    streamKeyId: text('stream_key_id').references(() => streamKeys.id, { onDelete: 'set null' }),
    ingestNode: text('ingest_node').notNull(),
    /** nginx's client id of the current publisher on ingestNode: lets a lost registry re-adopt this session. */
    clientId: text('client_id'),
    /** Number of times the publisher came back within the reconnect window. */
    reconnects: integer('reconnects').notNull().default(0),
    startedAt: tstz('started_at').notNull(),
    endedAt: tstz('ended_at'),
    endReason: text('end_reason', { enum: END_REASONS }),
    peakViewers: integer('peak_viewers').notNull().default(0),
    uniqueViewers: integer('unique_viewers').notNull().default(0),
    /** Media delivered to HLS viewers during the session (analytics/), ms. */
    watchTimeMs: bigint('watch_time_ms', { mode: 'number' }).notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    index('stream_sessions_channel_idx').on(t.channelId, t.startedAt),
    index('stream_sessions_open_idx').on(t.channelId).where(sql`${t.endedAt} is null`),
  ],
)

export type StreamSession = typeof streamSessions.$inferSelect
