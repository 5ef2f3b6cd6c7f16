/**
 * The live-effects batch handler against a real Postgres and Redis: a read of the `events` stream
 * becomes a few statements, with the same result as applying each event in turn — order kept
 * within the batch, an orphan (its channel deleted meanwhile) skipped alone, and an unreachable
 * ingest holding back only its own entry.
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../../test/harness.js'
import { broadcaster } from '../../test/support/live-helpers.js'
import { createDb } from '../db/client.js'
import { channels, streamKeys, streamSessions, users } from '../db/schema/index.js'
import { createLogger } from '../log.js'
import { createLiveEffects } from './effects.js'
import type { StreamEvent } from './events.js'
import { createIngestControl } from './ingest-control.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t?.close()
})

const log = createLogger({ level: 'silent' })

type B = Awaited<ReturnType<typeof broadcaster>>
const base = (b: B, channelId: string, at: number) => ({
  channel: b.channel,
  sessionId: randomUUID(),
  channelId,
  userId: b.user.id,
  keyId: b.keyId,
  node: 'down',
  clientId: String(at % 100_000),
  startedAt: at,
  reconnects: 0,
  at,
})
const entry = (id: string, e: StreamEvent) => ({ id, fields: ['data', JSON.stringify(e)] })

async function channelIdOf(name: string) {
  const [c] = await t.deps.db.select({ id: channels.id }).from(channels).where(eq(channels.name, name))
  return c!.id
}

describe('live effects, a batch at a time', () => {
  it('writes every session and key of a batch, in order, skipping an orphan and retrying only an unreachable drop', async () => {
    const [a, b, gone] = [await broadcaster(t.deps), await broadcaster(t.deps), await broadcaster(t.deps)]
    const now = Date.now()
    const ea = base(a, await channelIdOf(a.channel), now - 3000)
    const eb = base(b, await channelIdOf(b.channel), now - 2000)
    const eg = base(gone, await channelIdOf(gone.channel), now - 1000)
    // The orphan's owner is deleted before its event is applied (cascade: channel, key).
    await t.deps.db.delete(users).where(eq(users.id, gone.user.id))
    // "down" is an ingest node whose control port answers nothing.
    const handle = createLiveEffects({
      db: t.deps.db,
      ingest: createIngestControl({ down: 'http://127.0.0.1:9' }, log, 500),
      live: t.deps.live,
      log,
    })
    const outcome = await handle([
      entry('1-0', { type: 'stream.online', ...ea }),
      entry('2-0', { type: 'stream.online', ...eb }),
      entry('3-0', { type: 'stream.online', ...eg }),
      entry('4-0', { type: 'stream.online', ...eb, at: now }), // a duplicate (redelivered)
      // a's session ends within the same batch: it must find its row already written.
      entry('5-0', {
        type: 'stream.offline',
        ...ea,
        at: now,
        endedAt: now,
        reason: 'publisher_left',
        wasLive: true,
      }),
      // Revoked while live: its publisher is dropped, and that node is unreachable.
      entry('6-0', {
        type: 'stream.offline',
        ...eb,
        at: now,
        endedAt: now,
        reason: 'key_revoked',
        wasLive: true,
      }),
      { id: '7-0', fields: ['data', '{"type":"stream.online"'] }, // malformed: skipped, not retried
    ])
    expect(outcome.retry.map((e) => e.id)).toEqual(['6-0'])

    const rows = await t.deps.db
      .select()
      .from(streamSessions)
      .where(inArray(streamSessions.id, [ea.sessionId, eb.sessionId, eg.sessionId]))
    const byId = new Map(rows.map((r) => [r.id, r]))
    expect(byId.get(ea.sessionId)).toMatchObject({ endReason: 'publisher_left', endedAt: new Date(now) })
    expect(byId.get(eb.sessionId)).toMatchObject({ endReason: 'key_revoked' })
    expect(byId.has(eg.sessionId)).toBe(false)

    const keys = await t.deps.db
      .select({ id: streamKeys.id, lastUsedAt: streamKeys.lastUsedAt })
      .from(streamKeys)
      .where(inArray(streamKeys.id, [a.keyId, b.keyId]))
    const used = new Map(keys.map((k) => [k.id, k.lastUsedAt?.getTime()]))
    expect(used.get(a.keyId)).toBe(ea.at)
    expect(used.get(b.keyId)).toBe(now) // the latest of its two online events
    // Tombstones of both ended publishers, the unreachable one included.
    expect(await t.deps.redis.get(t.deps.keys.liveEnded('down', ea.clientId))).toBe('publisher_left')
    expect(await t.deps.redis.get(t.deps.keys.liveEnded('down', eb.clientId))).toBe('key_revoked')
  })

  it('never moves a key’s last use backwards when an old event is applied late', async () => {
    const a = await broadcaster(t.deps)
    const channelId = await channelIdOf(a.channel)
    const now = Date.now()
    const handle = createLiveEffects({ db: t.deps.db, ingest: t.deps.ingest, live: t.deps.live, log })
    const recent = base(a, channelId, now)
    const old = base(a, channelId, now - 60_000)
    await handle([entry('1-0', { type: 'stream.online', ...recent })])
    await handle([
      entry('2-0', { type: 'stream.online', ...old }),
      entry('3-0', { type: 'stream.online', ...base(a, channelId, now - 30_000) }),
    ])
    const [k] = await t.deps.db.select().from(streamKeys).where(eq(streamKeys.id, a.keyId))
    expect(k!.lastUsedAt?.getTime()).toBe(now)
  })

  it('drops a publisher ended on purpose even while Postgres refuses, and fails the batch for its history', async () => {
    const b = await broadcaster(t.deps)
    const e = base(b, await channelIdOf(b.channel), Date.now())
    // An ingest node's control endpoint, recording what it is asked to drop.
    const drops: string[] = []
    const node = createServer((req, res) => {
      drops.push(req.url ?? '')
      res.end('1')
    })
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r))
    // A database nobody listens on: every query is refused.
    const refused = createDb('postgres://postgres@127.0.0.1:9/none')
    try {
      const handle = createLiveEffects({
        db: refused.db,
        ingest: createIngestControl(
          { down: `http://127.0.0.1:${(node.address() as AddressInfo).port}` },
          log,
        ),
        live: t.deps.live,
        log,
      })
      const offline = {
        type: 'stream.offline' as const,
        ...e,
        endedAt: e.at,
        reason: 'kicked' as const,
        wasLive: true,
      }
      await expect(handle([entry('1-0', offline)])).rejects.toThrow()
      expect(drops).toEqual([`/control/drop/publisher?app=live&name=${b.channel}&clientid=${e.clientId}`])
    } finally {
      await refused.sql.end({ timeout: 1 })
      node.close()
    }
  })
})
