/** @module live/history — stream sessions in Postgres: opened at first publish, closed once with a reason. */
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { type EndReason, streamSessions } from '../db/schema/index.js'

export async function openSession(
  db: Db,
  s: { id: string; channelId: string; streamKeyId: string; ingestNode: string; startedAt: Date },
) {
  await db.insert(streamSessions).values(s)
}

export async function noteReconnect(db: Db, sessionId: string, ingestNode: string) {
  await db
    .update(streamSessions)
    .set({ reconnects: sql`${streamSessions.reconnects} + 1`, ingestNode })
    .where(eq(streamSessions.id, sessionId))
}

/** Idempotent: only the first close of a session sticks. */
export async function closeSession(db: Db, sessionId: string, endedAt: Date, reason: EndReason) {
  await db
    .update(streamSessions)
    .set({ endedAt, endReason: reason })
    .where(and(eq(streamSessions.id, sessionId), isNull(streamSessions.endedAt)))
}
