/** @module db/schema/stream-keys — RTMP stream keys `live_<id>_<secret>`; only sha256(secret) is stored. */
import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz } from '../columns.js'
import { users } from './users.js'

export const streamKeys = pgTable(
  'stream_keys',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    label: text('label').notNull().default(''),
    secretHash: text('secret_hash').notNull(),
    /** A recognisable, non-secret hint such as `live_ab12cd…wxyz`. */
    preview: text('preview').notNull(),
    lastUsedAt: tstz('last_used_at'),
    revokedAt: tstz('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [index('stream_keys_user_idx').on(t.userId)],
)

export type StreamKey = typeof streamKeys.$inferSelect
