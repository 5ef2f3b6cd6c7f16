/**
 * The chat-store batch handler against a real Postgres: a batch whose author was deleted
 * meanwhile stores every other line and skips only the orphan, instead of failing the batch on
 * every retry (the stream entry would never be acknowledged).
 */
import { randomUUID } from 'node:crypto'
import { eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { channels, chatMessages, users } from '../db/schema/index.js'
import { createLogger } from '../log.js'
import { createChatStore } from './store.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

describe('chat store', () => {
  it('stores the lines it can and skips one whose author was deleted meanwhile', async () => {
    const owner = await createUser(t.deps)
    const [channel] = await t.deps.db.select().from(channels).where(eq(channels.ownerId, owner.id))
    const [stays, goes] = [await createUser(t.deps), await createUser(t.deps)]
    await t.deps.db.delete(users).where(eq(users.id, goes.id))
    const line = (seq: number, u: { id: string; username: string }) => {
      const id = randomUUID()
      const frame = {
        type: 'chat',
        id,
        seq,
        user: { username: u.username, role: 'user' },
        text: `line ${seq}`,
        ts: new Date().toISOString(),
      }
      return {
        id,
        entry: { id: `${seq}-0`, fields: ['c', channel!.id, 'u', u.id, 'f', JSON.stringify(frame)] },
      }
    }
    const lines = [line(1, stays), line(2, goes), line(3, stays)]
    const store = createChatStore({ db: t.deps.db, log: createLogger({ level: 'silent' }) })
    await store(lines.map((l) => l.entry))
    const stored = await t.deps.db
      .select({ id: chatMessages.id, seq: chatMessages.seq })
      .from(chatMessages)
      .where(
        inArray(
          chatMessages.id,
          lines.map((l) => l.id),
        ),
      )
    expect(stored.map((r) => r.seq).sort()).toEqual([1, 3])
  })
})
