/** @module db/schema/users — accounts. The username is also the channel name. */
import { sql } from 'drizzle-orm'
import { pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, tstz, updatedAt } from '../columns.js'

export const ROLES = ['user', 'admin'] as const
export type Role = (typeof ROLES)[number]
export const PLANS = ['free', 'pro', 'premium'] as const
export type Plan = (typeof PLANS)[number]

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Stored lower-cased and trimmed; unique case-insensitively through the index below. */
    email: text('email').notNull(),
    username: text('username').notNull(),
    /** Null for accounts created by an identity provider until the user sets a password. */
    passwordHash: text('password_hash'),
    role: text('role', { enum: ROLES }).notNull().default('user'),
    plan: text('plan', { enum: PLANS }).notNull().default('free'),
    emailVerifiedAt: tstz('email_verified_at'),
    disabledAt: tstz('disabled_at'),
    lastLoginAt: tstz('last_login_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('users_email_lower_idx').on(sql`lower(${t.email})`),
    uniqueIndex('users_username_idx').on(t.username),
  ],
)

export type User = typeof users.$inferSelect
