/**
 * @module chat/store — the durable copy of chat in Postgres, written by the `chat-store` consumer
 * group of the `chat:persist` stream (redis/stream-consumer.ts) on every instance. The send script
 * records each accepted message there in the same step that delivers it, so a message a client
 * saw acknowledged reaches Postgres whatever happens meanwhile (a Postgres outage, a crash): the
 * entry stays pending until its insert committed. Inserts are batched per read and idempotent
 * (the message id is the key), so a retried or taken-over batch never stores a line twice.
 */
import { z } from 'zod'
import type { Db } from '../db/client.js'
import { isForeignKeyViolation } from '../db/errors.js'
import { chatMessages } from '../db/schema/index.js'
import type { Logger } from '../log.js'
import type { StreamEntry } from '../redis/stream-consumer.js'
import { parseStoredFrame } from './history.js'

export const CHAT_STORE_GROUP = 'chat-store'

const Ids = z.object({ c: z.string().uuid(), u: z.string().uuid() })

type Row = typeof chatMessages.$inferInsert

function toRow(e: StreamEntry): Row | null {
  const f: Record<string, string> = {}
  for (let i = 0; i + 1 < e.fields.length; i += 2) f[e.fields[i]!] = e.fields[i + 1]!
  const ids = Ids.safeParse(f)
  const frame = parseStoredFrame(f.f)
  if (!ids.success || !frame) return null
  return {
    id: frame.id,
    channelId: ids.data.c,
    seq: frame.seq,
    userId: ids.data.u,
    role: frame.user.role,
    text: frame.text,
    createdAt: new Date(frame.ts),
  }
}

export function createChatStore(d: { db: Db; log: Logger }) {
  return async function storeBatch(entries: StreamEntry[]): Promise<void> {
    const rows: Row[] = []
    for (const e of entries) {
      const row = toRow(e)
      if (row) rows.push(row)
      else d.log.error({ id: e.id }, 'chat store: malformed entry skipped')
    }
    if (rows.length === 0) return
    try {
      await d.db.insert(chatMessages).values(rows).onConflictDoNothing()
    } catch (err) {
      if (!isForeignKeyViolation(err)) throw err
      // A channel or user deleted meanwhile: store the others, skip what has nowhere to go.
      for (const row of rows) {
        await d.db
          .insert(chatMessages)
          .values(row)
          .onConflictDoNothing()
          .catch((e: unknown) => {
            if (!isForeignKeyViolation(e)) throw e
          })
      }
    }
  }
}
