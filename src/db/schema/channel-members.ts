/**
 * @module db/schema/channel-members — who the owner let watch a private channel: the entitlement a
 * payment provider would grant later (issue 14).
 */
import { pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core'
import { createdAt } from '../columns.js'
import { channels } from './channels.js'
import { users } from './users.js'

export const channelMembers = pgTable(
  'channel_members',
  {
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Who granted it (the owner or an admin); kept when that account goes. */
    grantedBy: uuid('granted_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.userId] })],
)

export type ChannelMember = typeof channelMembers.$inferSelect
