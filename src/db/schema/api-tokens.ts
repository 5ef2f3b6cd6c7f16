/**
 * @module db/schema/api-tokens — personal access tokens `lvp_<secret>`; only sha256 of the whole
 * token is stored (a 256-bit random secret needs no slow hash: nothing to brute-force).
 */
import { index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz } from '../columns.js'
import { users } from './users.js'

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    scopes: text('scopes').array().notNull(),
    /** sha256(token), hex: the lookup key. */
    tokenHash: text('token_hash').notNull(),
    /** `lvp_…` plus the last 4 characters: recognisable in a list, useless to an attacker. */
    preview: text('preview').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    /** Written at most once a minute per token (api-tokens/service.ts), not on every request. */
    lastUsedAt: tstz('last_used_at'),
    lastUsedIp: text('last_used_ip'),
    revokedAt: tstz('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash), index('api_tokens_user_idx').on(t.userId)],
)

export type ApiToken = typeof apiTokens.$inferSelect
