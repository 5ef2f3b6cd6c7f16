/**
 * Webhook delivery against a real receiver on 127.0.0.1: Standard Webhooks signatures verified
 * with the library, retries with one `webhook-id`, order per endpoint, a restart between attempts,
 * follow.created and lifecycle events, giving up, disabling, and the connect-time address check.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { eq, sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loggedIn } from '../../test/factories.js'
import { createTestApp, type TestApp, testConfig } from '../../test/harness.js'
import { waitFor } from '../../test/support/ffmpeg.js'
import { broadcaster } from '../../test/support/live-helpers.js'
import { type Receiver, startReceiver } from '../../test/support/webhook-receiver.js'
import { createDb } from '../db/client.js'
import { channels, outbox, webhookAttempts, webhookDeliveries, webhookEndpoints } from '../db/schema/index.js'
import { createLogger } from '../log.js'
import { emitWebhookEvent } from './emit.js'
import { createSecretBox, generateWebhookSecret, secretKey } from './secret.js'
import { sendWebhook } from './send.js'
import { createWebhook } from './service.js'
import type { Resolver } from './ssrf.js'
import { createWebhookWorker } from './worker.js'

const FAST = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '50' }

async function endpointFor(t: TestApp, url: string, events: string[] = ['stream.online']) {
  const me = await loggedIn(t.deps)
  const res = await t.json('POST', '/api/v1/webhooks', { url, events }, me.auth)
  expect(res.status).toBe(201)
  const { id, secret } = (await res.json()) as { id: string; secret: string }
  return { ...me, id, secret }
}

type Delivery = {
  webhookId: string
  sequence: number
  status: string
  lastError: string | null
  attempts: { at: string; status: number | null; durationMs: number; error: string | null }[]
}
async function deliveries(t: TestApp, ep: { id: string; auth: Record<string, string> }): Promise<Delivery[]> {
  const res = await t.json('GET', `/api/v1/webhooks/${ep.id}/deliveries`, undefined, ep.auth)
  return ((await res.json()) as { deliveries: Delivery[] }).deliveries
}
const settled = (t: TestApp, ep: { id: string; auth: Record<string, string> }, n: number) =>
  waitFor(
    async () => {
      const d = await deliveries(t, ep)
      return d.length === n && d.every((x) => x.status !== 'pending') ? d : null
    },
    { what: `${n} deliveries settled` },
  )
const sendTest = async (t: TestApp, ep: { id: string; auth: Record<string, string> }) => {
  const res = await t.json('POST', `/api/v1/webhooks/${ep.id}/test`, undefined, ep.auth)
  expect(res.status).toBe(202)
  return (await res.json()) as Delivery
}

describe('webhook delivery', () => {
  let t: TestApp
  const receivers: Receiver[] = []
  const receiver = async (respond?: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(respond)
    receivers.push(r)
    return r
  }
  beforeAll(async () => {
    t = await createTestApp({ env: FAST })
  })
  afterAll(async () => {
    await t.close()
    await Promise.all(receivers.map((r) => r.close()))
  })

  it('signs per Standard Webhooks: the library verifies it; the log records the attempt', async () => {
    const rx = await receiver()
    const ep = await endpointFor(t, rx.url)
    const queued = await sendTest(t, ep)
    expect(queued).toMatchObject({
      sequence: 1,
      status: 'pending',
      webhookId: expect.stringMatching(/^msg_/),
    })
    await waitFor(() => rx.received.length === 1, { what: 'the test event' })
    const [got] = rx.received
    expect(got!.headers['webhook-id']).toBe(queued.webhookId)
    expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    const payload = new Webhook(ep.secret).verify(got!.body, got!.headers as Record<string, string>)
    expect(payload).toMatchObject({ type: 'webhook.test', sequence: 1, data: { endpointId: ep.id } })
    // Another secret, or a body changed by one byte, does not verify.
    const other = await endpointFor(t, rx.url)
    expect(() =>
      new Webhook(other.secret).verify(got!.body, got!.headers as Record<string, string>),
    ).toThrow()
    expect(() =>
      new Webhook(ep.secret).verify(
        got!.body.replace('test', 'tess'),
        got!.headers as Record<string, string>,
      ),
    ).toThrow()
    const [d] = await settled(t, ep, 1)
    expect(d).toMatchObject({ status: 'delivered', lastError: null })
    expect(d!.attempts).toEqual([
      {
        at: expect.any(String),
        status: 200,
        durationMs: expect.any(Number),
        error: null,
        response: 'ok from receiver',
      },
    ])
  })

  it('retries with the same webhook-id: a receiver failing twice then succeeding sees it three times', async () => {
    const rx = await receiver((_r, n) => (n <= 2 ? 500 : 200))
    const ep = await endpointFor(t, rx.url)
    const queued = await sendTest(t, ep)
    const [d] = await settled(t, ep, 1)
    expect(d!.status).toBe('delivered')
    expect(d!.attempts.map((a) => a.status)).toEqual([500, 500, 200])
    expect(d!.attempts.map((a) => a.error)).toEqual(['HTTP 500', 'HTTP 500', null])
    expect(rx.received).toHaveLength(3)
    for (const r of rx.received) {
      expect(r.headers['webhook-id']).toBe(queued.webhookId)
      expect(r.body).toBe(rx.received[0]!.body) // the same body every time; only the timestamp is fresh
      new Webhook(ep.secret).verify(r.body, r.headers as Record<string, string>)
    }
  })

  it('delivers in sequence order per endpoint: later events wait while the first one backs off', async () => {
    const rx = await receiver((_r, n) => (n === 1 ? 503 : 200))
    const ep = await endpointFor(t, rx.url)
    for (let i = 0; i < 5; i++) await sendTest(t, ep)
    await settled(t, ep, 5)
    expect(rx.received.map((r) => r.json.sequence)).toEqual([1, 1, 2, 3, 4, 5])
    expect(rx.received.map((r) => Number(r.headers['webhook-sequence']))).toEqual([1, 1, 2, 3, 4, 5])
  })

  it('sends follow.created, written in the follow’s transaction, once per follow', async () => {
    const rx = await receiver()
    const owner = await endpointFor(t, rx.url, ['follow.created'])
    const fan = await loggedIn(t.deps)
    const path = `/api/v1/channels/${owner.user.username}/follow`
    expect((await t.json('POST', path, undefined, fan.auth)).status).toBe(200)
    expect((await t.json('POST', path, undefined, fan.auth)).status).toBe(200) // already following
    const [d] = await settled(t, owner, 1)
    expect(d!.status).toBe('delivered')
    expect(rx.received).toHaveLength(1)
    const payload = new Webhook(owner.secret).verify(
      rx.received[0]!.body,
      rx.received[0]!.headers as Record<string, string>,
    )
    expect(payload).toMatchObject({
      type: 'follow.created',
      data: { channel: owner.user.username, follower: { id: fan.user.id, username: fan.user.username } },
    })
  })

  it('turns lifecycle events from the events stream into deliveries, once each, to subscribers only', async () => {
    const rx = await receiver()
    const b = await broadcaster(t.deps)
    const res = await t.json('POST', '/api/v1/webhooks', { url: rx.url, events: ['stream.offline'] }, b.auth)
    const ep = { id: ((await res.json()) as { id: string }).id, auth: b.auth }
    const [ch] = await t.deps.db.select().from(channels).where(eq(channels.name, b.channel))
    const base = {
      channel: b.channel,
      sessionId: randomUUID(),
      channelId: ch!.id,
      userId: b.user.id,
      keyId: b.keyId,
      node: 'n1',
      clientId: '7',
      startedAt: Date.now() - 60_000,
      reconnects: 0,
    }
    const online = { ...base, type: 'stream.online', at: base.startedAt }
    const offline = {
      ...base,
      type: 'stream.offline',
      at: Date.now(),
      endedAt: Date.now(),
      reason: 'kicked',
      wasLive: true,
    }
    for (const e of [online, offline, offline]) {
      await t.deps.redis.xadd(t.deps.keys.events(b.channel), '*', 'data', JSON.stringify(e))
    }
    const [d] = await settled(t, ep, 1) // online not subscribed; offline twice in the stream, one delivery
    expect(d!.status).toBe('delivered')
    expect(rx.received.map((r) => r.json)).toEqual([
      {
        type: 'stream.offline',
        timestamp: new Date(offline.at).toISOString(),
        sequence: 1,
        data: {
          channel: b.channel,
          sessionId: base.sessionId,
          startedAt: new Date(base.startedAt).toISOString(),
          endedAt: new Date(offline.endedAt).toISOString(),
          reason: 'kicked',
        },
      },
    ])
  })

  it('signs with both secrets for a while after a rotation', async () => {
    const rx = await receiver()
    const ep = await endpointFor(t, rx.url)
    const res = await t.json('POST', `/api/v1/webhooks/${ep.id}/rotate-secret`, undefined, ep.auth)
    const { secret } = (await res.json()) as { secret: string }
    await sendTest(t, ep)
    await waitFor(() => rx.received.length === 1, { what: 'the test event' })
    const [r] = rx.received
    expect(String(r!.headers['webhook-signature']).split(' ')).toHaveLength(2)
    for (const s of [secret, ep.secret]) new Webhook(s).verify(r!.body, r!.headers as Record<string, string>)
  })

  it('gives a delivery up 24 h after its event, and the next one goes', async () => {
    let firstId: string | undefined
    const rx = await receiver((r) => {
      firstId ??= String(r.headers['webhook-id'])
      return r.headers['webhook-id'] === firstId ? 500 : 200
    })
    const ep = await endpointFor(t, rx.url)
    const first = await sendTest(t, ep)
    await sendTest(t, ep)
    await waitFor(() => rx.byId(first.webhookId).length >= 1, { what: 'the first attempt' })
    // A day passes (moved in the database, not waited for).
    await t.deps.db
      .update(webhookDeliveries)
      .set({ createdAt: sql`now() - interval '25 hours'` })
      .where(eq(webhookDeliveries.messageId, first.webhookId))
    const ds = await settled(t, ep, 2)
    expect(ds.map((d) => [d.sequence, d.status])).toEqual([
      [2, 'delivered'],
      [1, 'failed'],
    ])
    expect(ds[1]!.lastError).toBe('HTTP 500')
    expect(rx.received.at(-1)!.json.sequence).toBe(2)
  })

  it('disables an endpoint failing for 3 days and mails its owner (outbox)', async () => {
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    const rx = await receiver(async () => {
      await held
      return 500
    })
    const ep = await endpointFor(t, rx.url)
    await t.deps.db
      .update(webhookEndpoints)
      .set({ failingSince: sql`now() - interval '3 days'` })
      .where(eq(webhookEndpoints.id, ep.id))
    await sendTest(t, ep)
    await waitFor(() => rx.received.length === 1, { what: 'the first attempt in flight' })
    await sendTest(t, ep) // queued behind it
    release()
    const ds = await settled(t, ep, 2)
    expect(ds.map((d) => [d.sequence, d.status, d.lastError, d.attempts.length])).toEqual([
      [2, 'failed', 'endpoint disabled after failing for 3 days', 0],
      [1, 'failed', 'endpoint disabled after failing for 3 days', 1],
    ])
    expect(rx.received).toHaveLength(1)
    const view = await (await t.json('GET', `/api/v1/webhooks/${ep.id}`, undefined, ep.auth)).json()
    expect(view).toMatchObject({ enabled: false, disabledReason: 'failing' })
    const mails = await t.deps.db
      .select()
      .from(outbox)
      .where(sql`${outbox.topic} = 'mail.send' and ${outbox.payload}->>'to' = ${ep.user.email}`)
    expect(mails).toHaveLength(1)
    expect(mails[0]!.payload).toMatchObject({ subject: 'A webhook endpoint was disabled' })
    expect(JSON.stringify(mails[0]!.payload)).not.toContain('/hook') // origin only, never the path
    // A disabled endpoint gets no new events; enabling it again does.
    expect((await t.json('POST', `/api/v1/webhooks/${ep.id}/test`, undefined, ep.auth)).status).toBe(409)
    const on = await t.json('PATCH', `/api/v1/webhooks/${ep.id}`, { enabled: true }, ep.auth)
    expect(await on.json()).toMatchObject({ enabled: true, failingSince: null })
  })
})

describe('a restart between attempts', () => {
  it('still delivers: the delivery lives in Postgres, another instance sends it with the same id', async () => {
    const rx = await startReceiver((_r, n) => (n === 1 ? 500 : 200))
    // Every instance of a deployment shares the key that encrypts the signing secrets.
    const env = { ...FAST, WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') }
    // The first instance retries only after an hour: it is gone long before.
    const a = await createTestApp({ env: { ...env, WEBHOOK_RETRY_BASE_MS: '3600000' } })
    let ep: Awaited<ReturnType<typeof endpointFor>>
    let queued: Delivery
    try {
      ep = await endpointFor(a, rx.url)
      queued = await sendTest(a, ep)
      await waitFor(
        async () => {
          const [row] = await a.deps.db
            .select()
            .from(webhookDeliveries)
            .where(eq(webhookDeliveries.messageId, queued.webhookId))
          const attempts = await a.deps.db
            .select()
            .from(webhookAttempts)
            .where(eq(webhookAttempts.deliveryId, row!.id))
          return attempts.length === 1 && row!.status === 'pending'
        },
        { what: 'the failed first attempt recorded' },
      )
    } finally {
      await a.close()
    }
    const b = await createTestApp({ env })
    try {
      // The hour of backoff passes.
      await b.deps.db
        .update(webhookDeliveries)
        .set({ availableAt: sql`now()` })
        .where(eq(webhookDeliveries.messageId, queued.webhookId))
      const [d] = await settled(b, ep, 1)
      expect(d!.attempts.map((x) => x.status)).toEqual([500, 200])
      expect(rx.byId(queued.webhookId)).toHaveLength(2)
    } finally {
      await b.close()
      await rx.close()
    }
  })
})

describe('the connect-time address check', () => {
  // No app runs here: this file's own worker, with a scripted DNS, is the only sender.
  const config = testConfig({ WEBHOOK_ALLOW_PRIVATE: 'false' })
  const { db, sql: pg } = createDb(config.DATABASE_URL, { max: 2 })
  const box = createSecretBox(secretKey(config))
  const log = createLogger({ level: 'silent' })
  const answer =
    (address: string): Resolver =>
    async () => [{ address, family: 4 }]
  afterAll(() => pg.end())

  async function queued(rx: Receiver, userId: string) {
    // Saved while the name answered a public address.
    const { endpoint } = await createWebhook(
      { db, config, box, resolve: answer('8.8.8.8'), now: Date.now },
      userId,
      { url: `http://rebind.test:${rx.port}/hook`, events: ['stream.online'] },
    )
    await emitWebhookEvent(
      db,
      {
        type: 'webhook.test',
        at: Date.now(),
        userId,
        key: randomUUID(),
        data: { endpointId: endpoint.id, message: 'x' },
      },
      { endpointId: endpoint.id },
    )
    return endpoint.id
  }
  const attemptsOf = async (endpointId: string) =>
    db
      .select({ error: webhookAttempts.error, status: webhookAttempts.statusCode })
      .from(webhookAttempts)
      .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
      .where(eq(webhookDeliveries.endpointId, endpointId))

  it('refuses a name that now answers 127.0.0.1 (DNS rebinding) and never connects', async () => {
    const t = await createTestApp() // only for its factories' deps; closed at once
    const me = await loggedIn(t.deps)
    await t.close()
    const rx = await startReceiver()
    try {
      const id = await queued(rx, me.user.id)
      const worker = createWebhookWorker({
        sql: pg,
        db,
        log,
        box,
        resolve: answer('127.0.0.1'),
        config,
        pollMs: 0,
      })
      await worker.drain()
      await worker.stop()
      expect(await attemptsOf(id)).toEqual([
        { status: null, error: expect.stringMatching(/127\.0\.0\.1.*loopback/) },
      ])
      expect(rx.received).toHaveLength(0)

      // Control: the same lookup path does connect when the address is allowed (the check above is what stopped it).
      const dev = createWebhookWorker({
        sql: pg,
        db,
        log,
        box,
        resolve: answer('127.0.0.1'),
        config: { ...config, WEBHOOK_ALLOW_PRIVATE: true },
        pollMs: 0,
      })
      await db
        .update(webhookDeliveries)
        .set({ availableAt: sql`now()` })
        .where(eq(webhookDeliveries.endpointId, id))
      await dev.drain()
      await dev.stop()
      expect(rx.received).toHaveLength(1)
      await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id))
    } finally {
      await rx.close()
    }
  })

  it('refuses an IP literal that is not public at send time too (a URL saved while allowed)', async () => {
    const rx = await startReceiver()
    try {
      const r = await sendWebhook({
        url: `http://127.0.0.1:${rx.port}/hook`,
        messageId: 'msg_x',
        sequence: 1,
        body: '{}',
        secrets: [generateWebhookSecret()],
        timeoutMs: 5000,
        resolve: answer('8.8.8.8'),
        allowPrivate: false,
      })
      expect(r).toMatchObject({ ok: false, statusCode: null, error: expect.stringMatching(/loopback/) })
      expect(rx.received).toHaveLength(0)
    } finally {
      await rx.close()
    }
  })
})

describe('one attempt’s limits', () => {
  const base = {
    messageId: 'msg_limits',
    sequence: 1,
    body: '{"type":"webhook.test"}',
    secrets: [generateWebhookSecret()],
    timeoutMs: 10_000,
    resolve: (async () => []) as Resolver,
    allowPrivate: true,
  }
  const servers: Server[] = []
  const serve = async (handler: RequestListener) => {
    const s = createServer(handler)
    servers.push(s)
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`
  }
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections()
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  })

  it('reads at most 4 KiB of an endless answer, and still completes', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200)
      const chunk = 'x'.repeat(64 * 1024)
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump)
      }
      pump()
    })
    const r = await sendWebhook({ ...base, url })
    expect(r).toMatchObject({ ok: true, statusCode: 200, error: null })
    expect(r.responseBody!.length).toBe(4096)
  })

  it('does not follow a redirect: the attempt fails and the target is never asked', async () => {
    const elsewhere = await startReceiver()
    try {
      const url = await serve((_req, res) => res.writeHead(307, { location: elsewhere.url }).end())
      const r = await sendWebhook({ ...base, url })
      expect(r).toMatchObject({ ok: false, statusCode: 307, error: 'redirect (307) not followed' })
      expect(elsewhere.received).toHaveLength(0)
    } finally {
      await elsewhere.close()
    }
  })

  it('gives up on a receiver that never answers (total timeout)', async () => {
    const url = await serve(() => {}) // accepts, reads, never answers
    const r = await sendWebhook({ ...base, url, timeoutMs: 300 })
    expect(r).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 300 ms' })
  })

  it('a shutdown mid-attempt gives the lease back instead of counting a failure', async () => {
    const config = testConfig({ ...FAST })
    const { db, sql: pg } = createDb(config.DATABASE_URL, { max: 2 })
    const box = createSecretBox(secretKey(config))
    const t = await createTestApp()
    const me = await loggedIn(t.deps)
    await t.close()
    let arrived = false
    const url = await serve(() => {
      arrived = true // and never answers
    })
    try {
      const { endpoint } = await createWebhook(
        { db, config, box, resolve: base.resolve, now: Date.now },
        me.user.id,
        {
          url,
          events: ['stream.online'],
        },
      )
      await emitWebhookEvent(
        db,
        {
          type: 'webhook.test',
          at: Date.now(),
          userId: me.user.id,
          key: randomUUID(),
          data: { endpointId: endpoint.id, message: 'x' },
        },
        { endpointId: endpoint.id },
      )
      const worker = createWebhookWorker({
        sql: pg,
        db,
        log: createLogger({ level: 'silent' }),
        box,
        resolve: base.resolve,
        config,
        pollMs: 0,
      })
      const draining = worker.drain()
      await waitFor(() => arrived, { what: 'the attempt in flight' })
      await worker.stop()
      await draining
      const [row] = await db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.endpointId, endpoint.id))
      expect(row).toMatchObject({ status: 'pending', attempts: 0 })
      expect(row!.availableAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
      expect(await db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, row!.id))).toEqual(
        [],
      )
      await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id))
    } finally {
      await pg.end()
    }
  })
})
