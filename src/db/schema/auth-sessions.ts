/**
 * @module db/schema/auth-sessions — login sessions (refresh-token families) and their rotating tokens.
 * The session id is the access token's `sid`; revoking it ends every token of the family.
 */
import { boolean, index, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz } from '../columns.js'
import { users } from './users.js'

export const authSessions = pgTable(
  'auth_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    remember: boolean('remember').notNull().default(false),
    /** Absolute end of the family: no refresh extends it. */
    expiresAt: tstz('expires_at').notNull(),
    revokedAt: tstz('revoked_at'),
    revokeReason: text('revoke_reason'),
    userAgent: text('user_agent'),
    ip: text('ip'),
    createdAt: createdAt(),
    lastUsedAt: tstz('last_used_at'),
  },
  (t) => [index('auth_sessions_user_idx').on(t.userId)],
)

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    /** The public half of `id.secret`. */
    id: text('id').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => authSessions.id, { onDelete: 'cascade' }),
    /** sha256(secret), hex; compared in constant time. */
    secretHash: text('secret_hash').notNull(),
    /** Set when the token is exchanged; presenting it again is reuse and revokes the family. */
    usedAt: tstz('used_at'),
    createdAt: createdAt(),
  },
  (t) => [index('refresh_tokens_session_idx').on(t.sessionId)],
)

export type AuthSession = typeof authSessions.$inferSelect
