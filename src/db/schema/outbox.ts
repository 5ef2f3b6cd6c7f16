/**
 * @module db/schema/outbox — cross-store work decided in a Postgres transaction (a key revoked, an
 * account disabled, a mail to send), recorded in that same transaction and applied by outbox/worker.ts.
 */
import { sql } from 'drizzle-orm'
import { bigserial, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core'
import { createdAt, tstz } from '../columns.js'

export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    topic: text('topic').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt(),
    /** Not before: the next attempt (backoff), or the end of a running attempt's lease. */
    availableAt: tstz('available_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** Set once applied (or given up on: then lastError says why); kept a while for inspection. */
    doneAt: tstz('done_at'),
  },
  (t) => [index('outbox_due_idx').on(t.availableAt).where(sql`${t.doneAt} is null`)],
)

export type OutboxRow = typeof outbox.$inferSelect
