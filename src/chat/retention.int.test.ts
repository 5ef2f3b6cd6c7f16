import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser } from '../../test/factories.js'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { channels, chatMessages } from '../db/schema/index.js'
import { purgeExpiredMessages } from './history.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

describe('chat retention', () => {
  it('deletes messages older than CHAT_RETENTION_DAYS, in batches, and keeps the rest', async () => {
    const owner = await createUser(t.deps)
    const [ch] = await t.deps.db.select().from(channels).where(eq(channels.ownerId, owner.id))
    const now = Date.now()
    const day = 86_400_000
    const rows = Array.from({ length: 7 }, (_, i) => ({
      channelId: ch!.id,
      userId: owner.id,
      seq: i + 1,
      text: `m${i + 1}`,
      createdAt: new Date(now - (10 - i) * day),
    }))
    await t.deps.db.insert(chatMessages).values(rows) // ages 10, 9, 8, 7, 6, 5, 4 days
    expect(await purgeExpiredMessages(t.deps.db, 0, now)).toBe(0) // 0 keeps everything
    // Other channels' old messages may exist in the shared database: count only ours.
    await purgeExpiredMessages(t.deps.db, 7, now, 2)
    const left = await t.deps.db
      .select({ seq: chatMessages.seq })
      .from(chatMessages)
      .where(eq(chatMessages.channelId, ch!.id))
    expect(left.map((r) => r.seq).sort()).toEqual([4, 5, 6, 7]) // exactly 7 days old is not older than 7 days
  })
})
