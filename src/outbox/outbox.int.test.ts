import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUser, streamKeyFor } from '../../test/factories.js'
import { createTestApp, fromPeer, type TestApp } from '../../test/harness.js'
import { waitFor } from '../../test/support/ffmpeg.js'
import { historyRow } from '../../test/support/live-helpers.js'
import { createDb, type Db, type Sql } from '../db/client.js'
import { outbox } from '../db/schema/index.js'
import { createLogger } from '../log.js'
import { revokeStreamKey } from '../stream-keys/service.js'
import { enqueue } from './outbox.js'
import { createOutboxWorker, type OutboxHandlers } from './worker.js'

const log = createLogger({ level: 'silent' })

describe('outbox worker', () => {
  let db: Db
  let pg: Sql
  beforeAll(async () => {
    const t = await createTestApp()
    ;({ db, sql: pg } = createDb(t.deps.config.DATABASE_URL, { max: 2 }))
    await t.close() // its own worker must not take the rows this file writes
  })
  afterAll(() => pg.end())

  function worker(handlers: Partial<OutboxHandlers>) {
    const noop = { run: async () => {} }
    return createOutboxWorker({
      sql: pg,
      log,
      handlers: {
        'mail.send': noop,
        'stream_key.revoked': noop,
        'user.disabled': noop,
        ...handlers,
      } as OutboxHandlers,
      pollMs: 0,
    })
  }
  const rowOf = async (id: string) =>
    (
      await db
        .select()
        .from(outbox)
        .where(eq(outbox.id, Number(id)))
    )[0]!

  it('retries a failing row with backoff until its handler succeeds, then never again', async () => {
    const id = await enqueue(db, 'mail.send', { to: 'a@example.test', subject: 'hi', text: 'x' })
    let calls = 0
    const w = worker({
      'mail.send': {
        run: async () => {
          calls++
          if (calls < 3) throw new Error('SMTP relay refused')
        },
      },
    })
    await w.drain()
    let row = await rowOf(id)
    expect(row).toMatchObject({ attempts: 1, lastError: 'SMTP relay refused', doneAt: null })
    expect(row.availableAt.getTime()).toBeGreaterThan(Date.now())
    // Make it due again without waiting out the backoff, twice.
    for (let i = 0; i < 2; i++) {
      await db
        .update(outbox)
        .set({ availableAt: sql`now()` })
        .where(eq(outbox.id, Number(id)))
      await w.drain()
    }
    row = await rowOf(id)
    expect(row).toMatchObject({ attempts: 3, lastError: null })
    expect(row.doneAt).not.toBeNull()
    await db
      .update(outbox)
      .set({ availableAt: sql`now()` })
      .where(eq(outbox.id, Number(id)))
    await w.drain()
    expect(calls).toBe(3)
  })

  it('takes over a row whose worker died mid-way once the lease ran out', async () => {
    const id = await enqueue(db, 'mail.send', { to: 'b@example.test', subject: 'hi', text: 'x' })
    // A worker claimed it (lease set far ahead) and died: nobody else may touch it meanwhile…
    await db
      .update(outbox)
      .set({ attempts: 1, availableAt: sql`now() + interval '1 hour'` })
      .where(eq(outbox.id, Number(id)))
    const seen: string[] = []
    const w = worker({ 'mail.send': { run: async (m) => void seen.push(m.to) } })
    await w.drain()
    expect(seen).not.toContain('b@example.test')
    // …until the lease is over.
    await db
      .update(outbox)
      .set({ availableAt: sql`now()` })
      .where(eq(outbox.id, Number(id)))
    await w.drain()
    expect(seen).toContain('b@example.test')
  })

  it('skips a row whose payload no longer validates, and gives up after maxAttempts', async () => {
    const [bad] = await db
      .insert(outbox)
      .values({ topic: 'mail.send', payload: { to: 42 } })
      .returning({ id: outbox.id })
    const [unknown] = await db
      .insert(outbox)
      .values({ topic: 'no.such.topic', payload: {} })
      .returning({ id: outbox.id })
    const doomed = await enqueue(db, 'mail.send', { to: 'c@example.test', subject: 'hi', text: 'x' })
    const w = worker({
      'mail.send': {
        maxAttempts: 1,
        run: async () => {
          throw new Error('mailbox unavailable')
        },
      },
    })
    await w.drain()
    expect(await rowOf(String(bad!.id))).toMatchObject({
      lastError: 'invalid payload',
      doneAt: expect.any(Date),
    })
    expect(await rowOf(String(unknown!.id))).toMatchObject({
      lastError: 'invalid payload',
      doneAt: expect.any(Date),
    })
    expect(await rowOf(doomed)).toMatchObject({
      lastError: 'gave up: mailbox unavailable',
      doneAt: expect.any(Date),
    })
  })
})

describe('revocation through the outbox', () => {
  let healthy: TestApp
  beforeAll(async () => {
    healthy = await createTestApp()
  })
  afterAll(() => healthy.close())

  it('ends a revoked key’s live session even when the revoking instance cannot reach Redis', async () => {
    const user = await createUser(healthy.deps)
    const { key, row: row0 } = await streamKeyFor(healthy.deps, user)
    const q = new URLSearchParams({ node: 'n1', secret: healthy.deps.config.HOOK_SECRET })
    const res = await healthy.app.request(
      `/hooks/rtmp/publish?${q}`,
      { method: 'POST', body: `app=live&clientid=9&call=publish&name=${key}&type=live` },
      fromPeer('127.0.0.1'),
    )
    expect(res.status).toBe(302)
    const { sessionId } = (await healthy.deps.live.get(user.username))!

    // The revoking instance's Redis is down: the revocation commits, its effect cannot run there.
    const broken = await createTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } })
    try {
      await revokeStreamKey(broken.deps, user.id, row0.id)
    } finally {
      await broken.close()
    }
    // A healthy instance's worker takes the row over after its backoff and ends the session.
    await waitFor(async () => (await healthy.deps.live.get(user.username)) === null, {
      timeoutMs: 20_000,
      what: 'the revoked session ended by another instance',
    })
    const closed = await historyRow(healthy.deps, sessionId, (r) => r.endedAt !== null)
    expect(closed.endReason).toBe('key_revoked')
    // Two attempts: the revoking instance's (failed: no Redis), then the healthy worker's.
    const [row] = await healthy.deps.db
      .select()
      .from(outbox)
      .where(sql`${outbox.topic} = 'stream_key.revoked' and ${outbox.payload}->>'keyId' = ${row0.id}`)
    expect(row).toMatchObject({ attempts: 2, doneAt: expect.any(Date) })
  })
})
