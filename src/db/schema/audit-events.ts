/** @module db/schema/audit-events — append-only security and moderation trail. */
import { bigserial, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt } from '../columns.js'

export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** e.g. `auth.login.ok`, `auth.refresh.reuse`, `stream_key.revoked`, `chat.ban`. */
    type: text('type').notNull(),
    /** The account the event is about (null when unknown, e.g. a login for an unknown email). */
    userId: uuid('user_id'),
    actorId: uuid('actor_id'),
    ip: text('ip'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_events_user_idx').on(t.userId, t.createdAt),
    index('audit_events_type_idx').on(t.type, t.createdAt),
  ],
)
