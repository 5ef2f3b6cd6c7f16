/**
 * @module live/history — stream sessions in Postgres, written from the `events` stream (effects.ts).
 * Every write is an idempotent upsert that carries the whole session, so the events of one session
 * may be applied more than once and in any order (two instances consume the stream at once) and
 * the row still converges: opened once, closed once, never reopened.
 */
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { streamKeys, streamSessions } from '../db/schema/index.js'
import type { StreamEvent } from './events.js'

const row = (e: StreamEvent) => ({
  id: e.sessionId,
  channelId: e.channelId,
  streamKeyId: e.keyId,
  ingestNode: e.node,
  clientId: e.clientId,
  startedAt: new Date(e.startedAt),
  reconnects: e.reconnects,
})

export async function applyToHistory(db: Db, e: StreamEvent): Promise<void> {
  switch (e.type) {
    case 'stream.online':
      await db.insert(streamSessions).values(row(e)).onConflictDoNothing()
      await touchKey(db, e.keyId, e.at)
      return
    case 'stream.resumed':
    case 'stream.reconnecting':
      // The publisher of an open session (its node and client id: what re-adoption looks up).
      await db
        .insert(streamSessions)
        .values(row(e))
        .onConflictDoUpdate({
          target: streamSessions.id,
          set: {
            reconnects: sql`greatest(${streamSessions.reconnects}, excluded.reconnects)`,
            ...(e.type === 'stream.resumed' ? { ingestNode: e.node, clientId: e.clientId } : {}),
          },
          where: isNull(streamSessions.endedAt),
        })
      if (e.type === 'stream.resumed') await touchKey(db, e.keyId, e.at)
      return
    case 'stream.offline':
      await db
        .insert(streamSessions)
        .values({ ...row(e), endedAt: new Date(e.endedAt), endReason: e.reason })
        .onConflictDoUpdate({
          target: streamSessions.id,
          set: {
            endedAt: new Date(e.endedAt),
            endReason: e.reason,
            reconnects: sql`greatest(${streamSessions.reconnects}, excluded.reconnects)`,
          },
          where: isNull(streamSessions.endedAt),
        })
  }
}

async function touchKey(db: Db, keyId: string, at: number) {
  await db
    .update(streamKeys)
    .set({ lastUsedAt: sql`greatest(${streamKeys.lastUsedAt}, ${new Date(at).toISOString()}::timestamptz)` })
    .where(eq(streamKeys.id, keyId))
}

/** The open session a publisher (node, nginx client id) belongs to, for re-adoption after a registry loss. */
export async function findOpenSession(db: Db, channelId: string, node: string, clientId: string) {
  const [open] = await db
    .select({ id: streamSessions.id, startedAt: streamSessions.startedAt })
    .from(streamSessions)
    .where(
      and(
        eq(streamSessions.channelId, channelId),
        eq(streamSessions.ingestNode, node),
        eq(streamSessions.clientId, clientId),
        isNull(streamSessions.endedAt),
      ),
    )
  return open ?? null
}
