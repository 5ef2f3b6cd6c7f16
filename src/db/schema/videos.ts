/** @module db/schema/videos — recorded broadcasts: one row per stream session of a recording channel. */
import { bigint, index, pgTable, real, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz, updatedAt } from '../columns.js'
import { channels } from './channels.js'

export const VIDEO_STATUSES = ['processing', 'ready', 'failed'] as const
export type VideoStatus = (typeof VIDEO_STATUSES)[number]
export const VISIBILITIES = ['public', 'unlisted', 'private'] as const
export type Visibility = (typeof VISIBILITIES)[number]

export const videos = pgTable(
  'videos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    /**
     * The broadcast it records. Unique: the offline event and the remux job may each run more
     * than once, and still make one video. No foreign key: the history row is written by another
     * consumer of the same event and may not exist yet.
     */
    sessionId: uuid('session_id').notNull(),
    title: text('title').notNull().default(''),
    /** null: the channel's visibility applies. */
    visibility: text('visibility', { enum: VISIBILITIES }),
    status: text('status', { enum: VIDEO_STATUSES }).notNull().default('processing'),
    /** Why the last attempt failed (status failed, or processing with retries left). */
    error: text('error'),
    durationS: real('duration_s'),
    /** Bytes on disk (HLS + MP4 + thumbnail), for storage accounting. */
    bytes: bigint('bytes', { mode: 'number' }),
    /** When the broadcast started (the session's startedAt). */
    recordedAt: tstz('recorded_at').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('videos_session_idx').on(t.sessionId),
    index('videos_channel_idx').on(t.channelId, t.createdAt),
  ],
)

export type Video = typeof videos.$inferSelect
