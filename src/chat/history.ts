/**
 * @module chat/history — where past chat comes from: the channel's Redis stream (recent, written
 * in the same step as the publish) and Postgres (everything, within retention).
 *
 * The stream holds every non-deleted message with seq ≥ `covered` = max(floor, seq − MAXLEN + 1);
 * anything older is read from Postgres. Deleted messages are removed from both (XDEL / deleted_at),
 * so neither welcome history nor resume ever returns them.
 */
import { and, asc, desc, eq, gt, inArray, isNull, lt, max } from 'drizzle-orm'
import { z } from 'zod'
import type { Db } from '../db/client.js'
import { channels, chatMessages, users } from '../db/schema/index.js'
import type { Redis } from '../redis/client.js'
import type { Keys } from '../redis/keys.js'
import type { ChatFrame, ChatRole } from './protocol.js'

type Snapshot = { seq: number; covered: number; frames: ChatFrame[] }

const StoredFrame = z.object({
  type: z.literal('chat'),
  id: z.string().min(1),
  seq: z.number().int().positive(),
  user: z.object({ username: z.string(), role: z.enum(['owner', 'moderator', 'admin', 'user']) }),
  text: z.string(),
  ts: z.string(),
})

export function parseStoredFrame(json: string | undefined): ChatFrame | null {
  if (!json) return null
  try {
    const parsed = StoredFrame.safeParse(JSON.parse(json))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

export interface ChatHistory {
  /** The newest `limit` messages with seq ≤ the current seq, and that seq. */
  recent(channel: string, channelId: string, limit: number): Promise<{ seq: number; messages: ChatFrame[] }>
  /** Messages with afterSeq < seq < beforeSeq, the NEWEST `limit` of them, oldest first; `more` if older ones remain. */
  range(
    channel: string,
    channelId: string,
    afterSeq: number,
    beforeSeq: number,
    limit: number,
  ): Promise<{ messages: ChatFrame[]; more: boolean }>
  /** Highest stored seq in Postgres (seeds Redis if it lost the sequence). */
  maxStoredSeq(channelId: string): Promise<number>
  store(channelId: string, frame: ChatFrame, userId: string): Promise<void>
}

export function createChatHistory(opts: {
  db: Db
  redis: Redis
  keys: Keys
  historyMax: number
}): ChatHistory {
  const { db, redis, keys, historyMax } = opts

  // Group commit: one INSERT at a time, carrying every message that arrived while the previous
  // one ran. Idle, a message is written at once; under load, one round trip stores hundreds.
  type Pending = { row: typeof chatMessages.$inferInsert; resolve(): void; reject(err: unknown): void }
  const pending: Pending[] = []
  let writing = false
  const flushSoon = () => {
    if (writing || pending.length === 0) return
    writing = true
    setImmediate(async () => {
      const batch = pending.splice(0, 1000)
      try {
        await db
          .insert(chatMessages)
          .values(batch.map((p) => p.row))
          .onConflictDoNothing()
        for (const p of batch) p.resolve()
      } catch (err) {
        for (const p of batch) p.reject(err)
      } finally {
        writing = false
        flushSoon()
      }
    })
  }

  /** Frames read back from Redis are validated: a malformed entry is skipped, never thrown. */
  function parseEntries(entries: [string, string[]][]): ChatFrame[] {
    const out: ChatFrame[] = []
    for (const [, fields] of entries) {
      const i = fields.indexOf('f')
      const frame = i >= 0 ? parseStoredFrame(fields[i + 1]) : null
      if (frame) out.push(frame)
    }
    return out
  }

  async function snapshot(channel: string, read: (m: ReturnType<Redis['multi']>) => void): Promise<Snapshot> {
    const m = redis.multi().hmget(keys.chatSeq(channel), 'seq', 'floor')
    read(m)
    const res = (await m.exec()) ?? []
    const [seqS, floorS] = (res[0]?.[1] as (string | null)[]) ?? []
    const seq = Number(seqS ?? 0)
    // No state: nothing in Redis can be trusted, everything comes from Postgres.
    const covered =
      seqS == null ? Number.POSITIVE_INFINITY : Math.max(Number(floorS ?? 1), seq - historyMax + 1, 1)
    const frames = parseEntries((res[1]?.[1] as [string, string[]][]) ?? [])
    return { seq, covered, frames }
  }

  async function fromDb(
    channelId: string,
    where: ReturnType<typeof and>,
    order: 'asc' | 'desc',
    limit: number,
  ) {
    const rows = await db
      .select({
        id: chatMessages.id,
        seq: chatMessages.seq,
        text: chatMessages.text,
        createdAt: chatMessages.createdAt,
        role: chatMessages.role,
        username: users.username,
        userId: users.id,
        ownerId: channels.ownerId,
      })
      .from(chatMessages)
      .innerJoin(users, eq(users.id, chatMessages.userId))
      .innerJoin(channels, eq(channels.id, chatMessages.channelId))
      .where(and(eq(chatMessages.channelId, channelId), isNull(chatMessages.deletedAt), where))
      .orderBy(order === 'asc' ? asc(chatMessages.seq) : desc(chatMessages.seq))
      .limit(limit)
    return rows.map(
      (r): ChatFrame => ({
        type: 'chat',
        id: r.id,
        seq: r.seq,
        text: r.text,
        ts: r.createdAt.toISOString(),
        user: {
          username: r.username,
          role: (r.role ?? (r.userId === r.ownerId ? 'owner' : 'user')) as ChatRole,
        },
      }),
    )
  }

  return {
    async recent(channel, channelId, limit) {
      const snap = await snapshot(channel, (m) =>
        m.xrevrange(keys.chatHistory(channel), '+', '-', 'COUNT', limit),
      )
      const fromStream = snap.frames.filter((f) => f.seq >= snap.covered).reverse()
      let seq = snap.seq
      if (fromStream.length >= limit || snap.covered <= 1) return { seq, messages: fromStream.slice(-limit) }
      const below = Math.min(snap.covered, fromStream[0]?.seq ?? snap.covered)
      const older = await fromDb(
        channelId,
        Number.isFinite(below) ? lt(chatMessages.seq, below) : undefined,
        'desc',
        limit - fromStream.length,
      )
      if (!Number.isFinite(snap.covered)) seq = Math.max(seq, older[0]?.seq ?? 0)
      return { seq, messages: [...older.reverse(), ...fromStream] }
    },

    async range(channel, channelId, afterSeq, beforeSeq, limit) {
      if (beforeSeq - afterSeq <= 1) return { messages: [], more: false }
      // Newest first, so a capped page stays contiguous with what the socket already has.
      const snap = await snapshot(channel, (m) =>
        m.xrevrange(keys.chatHistory(channel), `${beforeSeq - 1}-0`, `${afterSeq + 1}-0`, 'COUNT', limit + 1),
      )
      const fromStream = snap.frames.filter(
        (f) => f.seq >= snap.covered && f.seq > afterSeq && f.seq < beforeSeq,
      )
      let picked = fromStream
      if (fromStream.length <= limit && snap.covered > afterSeq + 1) {
        const below = Math.min(beforeSeq, snap.covered)
        const older = await fromDb(
          channelId,
          and(gt(chatMessages.seq, afterSeq), lt(chatMessages.seq, below)),
          'desc',
          limit + 1 - fromStream.length,
        )
        picked = [...fromStream, ...older]
      }
      const more = picked.length > limit
      return { messages: picked.slice(0, limit).reverse(), more }
    },

    async maxStoredSeq(channelId) {
      const [row] = await db
        .select({ m: max(chatMessages.seq) })
        .from(chatMessages)
        .where(eq(chatMessages.channelId, channelId))
      return Number(row?.m ?? 0)
    },

    store(channelId, frame, userId) {
      return new Promise<void>((resolve, reject) => {
        pending.push({
          row: {
            id: frame.id,
            channelId,
            seq: frame.seq,
            userId,
            role: frame.user.role,
            text: frame.text,
            createdAt: new Date(frame.ts),
          },
          resolve,
          reject,
        })
        flushSoon()
      })
    },
  }
}

/** Deletes messages older than the retention, in batches; returns how many. */
export async function purgeExpiredMessages(
  db: Db,
  retentionDays: number,
  now: number,
  batch = 5000,
): Promise<number> {
  if (retentionDays <= 0) return 0
  const cutoff = new Date(now - retentionDays * 86_400_000)
  let total = 0
  for (;;) {
    const oldest = db
      .select({ id: chatMessages.id })
      .from(chatMessages)
      .where(lt(chatMessages.createdAt, cutoff))
      .limit(batch)
    const deleted = await db
      .delete(chatMessages)
      .where(inArray(chatMessages.id, oldest))
      .returning({ id: chatMessages.id })
    const n = deleted.length
    total += n
    if (n < batch) return total
  }
}
