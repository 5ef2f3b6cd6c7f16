/**
 * GET /metrics through the real app (real Postgres and Redis): who may scrape, and what the
 * exposition carries — route patterns, hook outcomes, scrape-time gauges, process metrics.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, fromPeer, type TestApp } from '../../test/harness.js'
import { parseExposition, sample } from '../../test/support/prom.js'
import { enqueue } from '../outbox/outbox.js'
import { generateStreamKey } from '../stream-keys/token.js'

const TOKEN = randomBytes(24).toString('base64url')
let open: TestApp
let guarded: TestApp

beforeAll(async () => {
  open = await createTestApp()
  guarded = await createTestApp({ env: { METRICS_TOKEN: TOKEN } })
})
afterAll(async () => {
  await Promise.all([open?.close(), guarded?.close()])
})

const scrape = (t: TestApp, peer: string | null, headers: Record<string, string> = {}) =>
  t.app.request('/metrics', { headers }, peer === null ? undefined : fromPeer(peer))

async function text(t: TestApp): Promise<string> {
  const res = await scrape(t, '127.0.0.1')
  expect(res.status).toBe(200)
  return res.text()
}

describe('who may scrape', () => {
  it('serves a direct loopback peer, IPv4 and IPv6, without a token', async () => {
    for (const peer of ['127.0.0.1', '127.0.5.9', '::1', '::ffff:127.0.0.1']) {
      const res = await scrape(open, peer)
      expect(res.status, peer).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    }
  })

  it('refuses anyone else, a request relayed by a proxy (nginx is loopback too) and one with no peer', async () => {
    for (const [peer, headers] of [
      ['10.1.2.3', {}],
      ['192.168.0.7', { authorization: `Bearer ${TOKEN}` }],
      ['127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }],
      ['127.0.0.1', { 'x-real-ip': '203.0.113.9' }],
      [null, {}],
    ] as const) {
      const res = await scrape(open, peer, headers)
      expect(res.status, `${peer} ${JSON.stringify(headers)}`).toBe(403)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(((await res.json()) as { code: string }).code).toBe('FORBIDDEN')
    }
  })

  it('with METRICS_TOKEN, serves a remote peer that presents it and refuses one that does not', async () => {
    const remote = '10.20.30.40'
    for (const auth of [undefined, 'Bearer wrong-token-wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await scrape(guarded, remote, auth ? { authorization: auth } : {})
      expect(res.status, auth).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
      expect(((await res.json()) as { code: string }).code).toBe('UNAUTHORIZED')
    }
    const ok = await scrape(guarded, remote, { authorization: `Bearer ${TOKEN}` })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('live_http_request_duration_seconds')
    // The token also passes a relayed request: the proxy is no longer what decides.
    expect(
      (await scrape(guarded, '127.0.0.1', { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': remote }))
        .status,
    ).toBe(200)
  })
})

describe('what it exposes', () => {
  it('times requests by the route pattern that answered, never the raw path', async () => {
    const name = `nochan${randomBytes(3).toString('hex')}`
    expect((await open.app.request(`/api/v1/channels/${name}`)).status).toBe(404)
    expect((await open.app.request(`/no/such/${name}`)).status).toBe(404)
    // Refused by the auth middleware in front of it: still labelled with the handler's route.
    expect((await open.app.request('/api/v1/me')).status).toBe(401)
    const body = await text(open)
    expect(body).not.toContain(name)
    const count = (route: string, status: string) =>
      sample(body, 'live_http_request_duration_seconds_count', { method: 'GET', route, status })
    expect(count('/api/v1/channels/:name', '404')).toBeGreaterThanOrEqual(1)
    expect(count('unmatched', '404')).toBeGreaterThanOrEqual(1)
    expect(count('/api/v1/me', '401')).toBeGreaterThanOrEqual(1)
  })

  it('counts hook decisions by hook and outcome', async () => {
    const before = await text(open)
    const hook = (path: string, body: string, secret = open.deps.config.HOOK_SECRET) =>
      open.app.request(
        `/hooks/rtmp/${path}?node=n1&secret=${secret}`,
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
        fromPeer('127.0.0.1'),
      )
    const unknownKey = `app=live&call=publish&name=${generateStreamKey().key}&clientid=1`
    expect((await hook('publish', unknownKey)).status).toBe(403)
    expect((await hook('publish', 'app=live')).status).toBe(400)
    expect((await hook('update', 'app=live&call=update_play&name=x&clientid=2')).status).toBe(200)
    expect((await hook('publish-done', unknownKey, 'wrong-secret-wrong-secret')).status).toBe(403)
    const after = await text(open)
    const rose = (labels: Record<string, string>) =>
      (sample(after, 'live_hook_decisions_total', labels) ?? 0) -
      (sample(before, 'live_hook_decisions_total', labels) ?? 0)
    expect(rose({ hook: 'publish', outcome: 'refused', reason: 'unknown' })).toBe(1)
    expect(rose({ hook: 'publish', outcome: 'invalid', reason: '' })).toBe(1)
    expect(rose({ hook: 'update', outcome: 'ignored', reason: '' })).toBe(1)
    expect(rose({ hook: 'publish_done', outcome: 'unauthorized', reason: '' })).toBe(1)
  })

  it('reads the outbox backlog, the events consumer, sockets and process metrics at scrape time', async () => {
    // A row that is not due for a minute: pending, not due, and ageing.
    await enqueue(open.deps.db, 'user.disabled', { userId: crypto.randomUUID() }, { inline: true })
    const body = await text(open)
    const { types } = parseExposition(body)
    expect(sample(body, 'live_outbox_pending_rows')).toBeGreaterThanOrEqual(1)
    expect(sample(body, 'live_outbox_due_rows')).toBeGreaterThanOrEqual(0)
    expect(sample(body, 'live_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0)
    expect(sample(body, 'live_events_consumer_pending', { group: 'live-effects' })).toBe(0)
    expect(sample(body, 'live_events_consumer_lag', { group: 'live-effects' })).toBe(0)
    expect(sample(body, 'live_websocket_connections')).toBe(0)
    for (const source of ['live_registry', 'outbox', 'events'])
      expect(sample(body, 'live_metrics_source_up', { source }), source).toBe(1)
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge')
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter')
    expect(types.get('live_http_request_duration_seconds')).toBe('histogram')
  })

  it('keeps each app instance’s registry its own', async () => {
    await open.app.request('/healthz')
    await open.app.request('/healthz')
    const a = sample(await text(open), 'live_http_request_duration_seconds_count', {
      route: '/healthz',
      status: '200',
    })
    const b = sample(await text(guarded), 'live_http_request_duration_seconds_count', {
      route: '/healthz',
      status: '200',
    })
    expect(a).toBeGreaterThanOrEqual(2)
    expect(b).toBeUndefined()
  })
})

describe('when the stores are down', () => {
  it('counts failed-closed and failed-open hooks and store errors, and marks the sources down', async () => {
    const broken = await createTestApp({
      env: { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope' },
    })
    try {
      const q = new URLSearchParams({ node: 'n1', secret: broken.deps.config.HOOK_SECRET })
      const call = (path: string, body: string) =>
        broken.app.request(`/hooks/rtmp/${path}?${q}`, { method: 'POST', body }, fromPeer('127.0.0.1'))
      const key = generateStreamKey().key
      const form = (verb: string) => `app=live&addr=127.0.0.1&clientid=1&call=${verb}&name=${key}&type=live`
      expect((await call('publish', form('publish'))).status).toBe(503)
      expect((await call('update', `${form('update_publish')}&time=30&timestamp=30000`)).status).toBe(200)
      const body = await text(broken)
      const decisions = (hook: string, outcome: string) =>
        sample(body, 'live_hook_decisions_total', { hook, outcome, reason: '' })
      expect(decisions('publish', 'failed_closed')).toBe(1)
      expect(decisions('update', 'failed_open')).toBe(1)
      // The key lookup hit Postgres first; the update's registry lookup hit Redis.
      expect(sample(body, 'live_postgres_errors_total', { source: 'hooks' })).toBe(1)
      expect(sample(body, 'live_redis_errors_total', { source: 'hooks' })).toBe(1)
      // ioredis's own connection errors, counted as they are reported.
      expect(sample(body, 'live_redis_errors_total', { source: 'command' })).toBeGreaterThan(0)
      for (const source of ['live_registry', 'outbox', 'events'])
        expect(sample(body, 'live_metrics_source_up', { source }), source).toBe(0)
      // A source that did not answer leaves no made-up value behind.
      expect(sample(body, 'live_outbox_pending_rows')).toBeUndefined()
      expect(sample(body, 'live_streams', {})).toBeUndefined()
    } finally {
      await broken.close()
    }
  })
})
