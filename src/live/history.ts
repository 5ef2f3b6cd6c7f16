/**
 * @module live/history — stream sessions in Postgres, written from the `events` stream (effects.ts).
 * Every write is an idempotent upsert that carries the whole session, so the events of one session
 * may be applied more than once and in any order (two instances consume the stream at once) and
 * the row still converges: opened once, closed once, never reopened.
 */
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Db } from '../db/client.js'
import { isForeignKeyViolation } from '../db/errors.js'
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

/**
 * The same as applying each event in turn, with far fewer statements: each run of consecutive
 * `stream.online` events (the bulk of a busy minute: every publish starts one) is one multi-row
 * insert and one update of the keys' `last_used_at`, instead of two statements per event beside
 * every publish hook (docs/benchmarks.md). Order is kept, so a session's later events still
 * follow its start. A run that fails on a foreign key (a channel or key deleted meanwhile) is
 * applied again event by event, so only the orphan is lost; `onOrphan` hears of it.
 */
export async function applyToHistoryBatch(
  db: Db,
  events: StreamEvent[],
  onOrphan: (e: StreamEvent) => void,
): Promise<void> {
  const one = (e: StreamEvent) =>
    applyToHistory(db, e).catch((err) => {
      if (!isForeignKeyViolation(err)) throw err
      onOrphan(e)
    })
  let run: StreamOnline[] = []
  const flush = async () => {
    const started = run
    run = []
    if (started.length === 0) return
    if (started.length === 1) return one(started[0]!)
    try {
      await db.insert(streamSessions).values(started.map(row)).onConflictDoNothing()
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err
      for (const e of started) await one(e)
      return
    }
    await touchKeys(db, started)
  }
  for (const e of events) {
    if (e.type === 'stream.online') {
      run.push(e)
      continue
    }
    await flush()
    await one(e)
  }
  await flush()
}

type StreamOnline = Extract<StreamEvent, { type: 'stream.online' }>

/** `last_used_at` of many keys at once: each to the latest of its events, never backwards. */
async function touchKeys(db: Db, events: StreamOnline[]) {
  const latest = new Map<string, number>()
  for (const e of events) latest.set(e.keyId, Math.max(latest.get(e.keyId) ?? 0, e.at))
  const values = sql.join(
    [...latest].map(([id, at]) => sql`(${id}, ${new Date(at).toISOString()}::timestamptz)`),
    sql`, `,
  )
  await db.execute(sql`
    update ${streamKeys} set last_used_at = greatest(${streamKeys.lastUsedAt}, v.at)
    from (values ${values}) as v(id, at)
    where ${streamKeys.id} = v.id`)
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
