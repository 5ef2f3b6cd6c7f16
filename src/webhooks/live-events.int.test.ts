/**
 * The `webhooks` group's batch handler against a real Postgres: of a batch of lifecycle events,
 * exactly those an owner's endpoint subscribed to become deliveries, numbered in stream order; a
 * batch applied twice (a retry, a takeover) adds nothing.
 */
import { randomUUID } from 'node:crypto'
import { asc, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { broadcaster } from '../../test/support/live-helpers.js'
import { channels, webhookDeliveries } from '../db/schema/index.js'
import type { StreamEvent } from '../live/events.js'
import { createLogger } from '../log.js'
import type { StreamEntry } from '../redis/stream-consumer.js'
import { createWebhookEventHandler } from './live-events.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'true' } })
})
afterAll(async () => {
  await t?.close()
})

type B = Awaited<ReturnType<typeof broadcaster>>
async function session(b: B, at: number) {
  const [c] = await t.deps.db.select({ id: channels.id }).from(channels).where(eq(channels.name, b.channel))
  return {
    channel: b.channel,
    sessionId: randomUUID(),
    channelId: c!.id,
    userId: b.user.id,
    keyId: b.keyId,
    node: 'n1',
    clientId: '7',
    startedAt: at,
    reconnects: 0,
    at,
  }
}

const entry = (id: string): StreamEntry => ({ id, fields: [] })

describe('webhook events from the lifecycle stream', () => {
  it('turns a batch into the deliveries endpoints subscribed to, in stream order, once', async () => {
    const [subscriber, other] = [await broadcaster(t.deps), await broadcaster(t.deps)]
    const res = await t.json(
      'POST',
      '/api/v1/webhooks',
      { url: 'http://127.0.0.1:9/hook', events: ['stream.online', 'stream.offline'] },
      subscriber.auth,
    )
    expect(res.status).toBe(201)
    const { id: endpointId } = (await res.json()) as { id: string }
    const now = Date.now()
    const s1 = await session(subscriber, now - 2000)
    const s2 = await session(subscriber, now - 1000)
    const o = await session(other, now - 1500)
    const batch: { entry: StreamEntry; event: StreamEvent }[] = [
      { entry: entry('1-0'), event: { type: 'stream.online', ...s1 } },
      { entry: entry('2-0'), event: { type: 'stream.online', ...o } }, // nobody subscribed
      { entry: entry('3-0'), event: { type: 'stream.reconnecting', ...s1, at: now - 1900 } }, // not subscribed
      {
        entry: entry('4-0'),
        event: {
          type: 'stream.offline',
          ...s1,
          at: now - 1800,
          endedAt: now - 1800,
          reason: 'publisher_left',
          wasLive: true,
        },
      },
      { entry: entry('5-0'), event: { type: 'stream.online', ...s2 } },
    ]
    const handle = createWebhookEventHandler({ db: t.deps.db, log: createLogger({ level: 'silent' }) })
    expect(await handle(batch)).toEqual({ retry: [] })
    expect(await handle(batch)).toEqual({ retry: [] }) // redelivered: found by event key
    const rows = await t.deps.db
      .select({
        type: webhookDeliveries.eventType,
        seq: webhookDeliveries.seq,
        key: webhookDeliveries.eventKey,
      })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, endpointId))
      .orderBy(asc(webhookDeliveries.seq))
    expect(rows.map((r) => [r.type, r.key.split(':')[1]])).toEqual([
      ['stream.online', s1.sessionId],
      ['stream.offline', s1.sessionId],
      ['stream.online', s2.sessionId],
    ])
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3])
    expect(await handle([])).toEqual({ retry: [] })
  })
})
