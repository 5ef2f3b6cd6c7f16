/**
 * @module outbox/outbox — records cross-store work inside the caller's Postgres transaction. The row
 * exists iff the decision committed; outbox/worker.ts applies it afterwards, with retries, on any
 * instance. `pg_notify` inside the transaction wakes the workers at commit (not before).
 */
import { sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/client.js'
import { outbox } from '../db/schema/index.js'
import type { Mail } from '../mail/mailer.js'
import { type Payload, type Topic, topicSchemas } from './topics.js'

export const OUTBOX_CHANNEL = 'outbox'

/** Grace before workers take over a row its request means to apply itself (`inline`). */
export const INLINE_GRACE_MS = 10_000

/**
 * Records the work; returns the row id. `inline`: the caller applies it right after commit
 * (worker.applyNow) so the API answer reflects it — workers only take it over if that caller dies
 * or fails, after INLINE_GRACE_MS. Otherwise workers are woken at commit.
 */
export async function enqueue<T extends Topic>(
  db: Db | Tx,
  topic: T,
  payload: Payload<T>,
  opts: { inline?: boolean } = {},
): Promise<string> {
  // A bad payload is a programming error: refuse it here, where the stack says who wrote it.
  const valid = topicSchemas[topic].parse(payload)
  const [row] = await db
    .insert(outbox)
    .values({
      topic,
      payload: valid,
      ...(opts.inline ? { availableAt: sql`now() + make_interval(secs => ${INLINE_GRACE_MS / 1000})` } : {}),
    })
    .returning({ id: outbox.id })
  if (!opts.inline) await db.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${topic})`)
  return String(row!.id)
}

/** Mail goes out through the outbox: it exists iff the token it carries was committed. */
export async function enqueueMail(db: Db | Tx, mail: Mail): Promise<void> {
  await enqueue(db, 'mail.send', mail)
}
