/** @module db/schema/email-tokens — single-use tokens mailed to users (verify email, reset password). */
import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz } from '../columns.js'
import { users } from './users.js'

export const EMAIL_TOKEN_PURPOSES = ['verify_email', 'reset_password'] as const
export type EmailTokenPurpose = (typeof EMAIL_TOKEN_PURPOSES)[number]

export const emailTokens = pgTable(
  'email_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: EMAIL_TOKEN_PURPOSES }).notNull(),
    /** sha256 of the token, hex. The token itself only ever exists in the mail. */
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
    createdAt: createdAt(),
  },
  (t) => [index('email_tokens_user_idx').on(t.userId, t.purpose)],
)
