/**
 * @module db/schema/identities — accounts linked to an OpenID Connect provider: one row per
 * (provider, subject). The provider's `sub` is the identity; the email is kept for display only.
 */
import { pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz } from '../columns.js'
import { users } from './users.js'

export const identities = pgTable(
  'identities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The `id` of an OIDC_PROVIDERS entry. */
    provider: text('provider').notNull(),
    subject: text('subject').notNull(),
    email: text('email'),
    lastLoginAt: tstz('last_login_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('identities_provider_subject_idx').on(t.provider, t.subject),
    // One link per provider per user; also serves "the user's identities" lookups (leading column).
    uniqueIndex('identities_user_provider_idx').on(t.userId, t.provider),
  ],
)

export type Identity = typeof identities.$inferSelect
