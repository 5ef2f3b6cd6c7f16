/** @module db/schema/channels — one channel per user, named after the username; title and chat rules. */
import { sql } from 'drizzle-orm'
import { boolean, integer, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, updatedAt } from '../columns.js'
import { users } from './users.js'

/** Who may watch (issue 14): public, unlisted (by link, not listed), private (owner, mods, admins, members). */
export const channelVisibility = pgEnum('channel_visibility', ['public', 'unlisted', 'private'])
// Named apart from the videos schema's `Visibility` (the same union) so both can be re-exported.
export type ChannelVisibility = (typeof channelVisibility.enumValues)[number]

export const channels = pgTable(
  'channels',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    title: text('title').notNull().default(''),
    /** Chat rules (issue: chat moderation); 0 / null means off. */
    slowModeSeconds: integer('slow_mode_seconds').notNull().default(0),
    followersOnlyMinutes: integer('followers_only_minutes'),
    emoteOnly: boolean('emote_only').notNull().default(false),
    maxMessageLength: integer('max_message_length').notNull().default(500),
    blockedTerms: text('blocked_terms').array().notNull().default(sql`'{}'::text[]`),
    /** Broadcasts become videos (videos/) when on. */
    record: boolean('record').notNull().default(false),
    visibility: channelVisibility('visibility').notNull().default('public'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('channels_name_idx').on(t.name), uniqueIndex('channels_owner_idx').on(t.ownerId)],
)

export type Channel = typeof channels.$inferSelect
